// How many hedges a group may fire: a share of its requests, as gRPC's retry throttling and
// Finagle's retry budget bound retries. Hedging helps a query only while the masters have room;
// when they are overloaded every reply is late, and hedging each one would add to the overload
// it is reacting to. Each request earns `share` of a hedge, and the bucket holds `burst` hedges, so
// a quiet group can still hedge around a master that hangs all at once.

export class HedgeBudget {
  /** Counted in requests (a hedge costs 1/share of them), so that sums of tenths never fall short of a whole. */
  private credit: number;
  private readonly cost: number;
  private readonly max: number;

  constructor(share = 0.1, burst = 20) {
    this.cost = 1 / share;
    this.max = burst * this.cost;
    this.credit = this.max;
  }

  /** A request was sent. */
  earn(): void {
    this.credit = Math.min(this.max, this.credit + 1);
  }

  /** Spends a hedge's worth when there is one: whether a hedge may fire now. */
  spend(): boolean {
    if (this.credit < this.cost) return false;
    this.credit -= this.cost;
    return true;
  }
}
