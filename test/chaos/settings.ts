// What one `npm run chaos` does: every count, rate, duration and bound in one place, so the run's
// size and its limits can be read (and stated in the README) without reading the cases.
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/agent-process.js';
import { agentLaunch } from '../helpers/agent-launch.js';

/** The whole run is stopped (everything it started killed, exit 1) after this: it must never hang CI or a shell. */
export const BACKSTOP_MS = 290_000;
/** Seed of the fuzz generator; CHAOS_SEED=N replays a run. */
export const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 2 ** 31);

/**
 * The agent's environment and node flags, as its #! line gives them: they set its memory
 * profile, and the RSS bounds below are for the agent as deployed.
 */
export const AGENT_LAUNCH = agentLaunch();

// ---- case 1: fuzz ----
export const FUZZ_UDP_PACKETS = 70_000;
/** Packets sent between two ready checks (ready.spartan); each check's answer is the backpressure (see cases/fuzz.ts). */
export const FUZZ_UDP_WINDOW = 200;
/** And never faster than this, whatever the agent keeps up with. */
export const FUZZ_UDP_MAX_RATE = 25_000;
/** TCP: garbage frames on connections of FUZZ_TCP_FRAMES_PER_CONN, plus the other connection kinds. */
export const FUZZ_TCP_GARBAGE_CONNS = 250;
export const FUZZ_TCP_FRAMES_PER_CONN = 100;
export const FUZZ_TCP_PIPELINE_CONNS = 4;
export const FUZZ_TCP_PIPELINE_FRAMES = 1000;
export const FUZZ_TCP_LYING_CONNS = 500;
export const FUZZ_TCP_HALF_CONNS = 500;
export const FUZZ_TCP_CONCURRENCY = 20;
/** A connection we have finished writing to must be closed by the agent within this. */
export const FUZZ_TCP_CLOSE_WAIT_MS = 5000;
/** The agent's peak RSS (VmHWM) after the fuzz. The bench's heaviest case peaks at ~120 MiB. */
export const FUZZ_RSS_LIMIT_MIB = 150;

// ---- case 3: spoofing ----
export const SPOOF_NAMES = 3000;
export const SPOOF_QPS = 600;
/** In TEST-NET-3 (RFC 5737): never a real task's address. */
export const FORGED_ADDRESS = '203.0.113.66';

// ---- case 4: flood ----
export const FLOOD_CAPACITY_SECONDS = 3;
export const FLOOD_SECONDS = 30;
/** Queries dnsperf keeps outstanding during the flood, so it keeps its rate while the agent falls behind. */
export const FLOOD_MAX_OUTSTANDING = 60_000;
/**
 * The agent's peak RSS (VmHWM) in the flood. Its onset briefly takes the agent to 130–175 MiB
 * here (queries pile up while V8 grows its heap), then RSS settles near 108 MiB.
 */
export const FLOOD_RSS_LIMIT_MIB = 200;
/** And the floor of RSS must not rise more than this from the first third of the flood to the last (a leak would). */
export const FLOOD_RSS_GROWTH_MIB = 16;
/** Seconds at the start of the flood left out of that comparison: the heap grows to its working size first. */
export const FLOOD_WARMUP_S = 5;
/** After the flood, a Mesos name must be answered correctly within this. */
export const FLOOD_RECOVERY_MS = 1000;

// ---- case 5: TCP abuse ----
/** Idle connections opened by the abusers, fewer when the open-files limit is lower (see cases/tcp-abuse.ts). */
export const ABUSE_IDLE_CONNS = 3000;
export const ABUSE_SLOW_SENDERS = 20;
export const ABUSE_SECONDS = 12;
/** The case's TCP limits: short, so that the abusers are seen to be closed within the case. */
export const ABUSE_TCP = { maxConnections: 256, idleTimeoutMs: 3000, maxConnectionsPerClient: 16, queryTimeoutMs: 2000 };
/** Abusers connect from these; the well-behaved clients (dig) from 127.0.0.1, the node itself. */
export const ABUSER_ADDRESSES = ['127.0.0.51', '127.0.0.52', '127.0.0.53', '127.0.0.54'];
export const SLOW_SENDER_ADDRESS = '127.0.0.55';

// ---- case 6: faults mid-load ----
export const FAULTS_QPS = 500;
/** Seconds per phase; the load runs through all of them (~40 s). */
export const FAULTS_PHASE_SECONDS = 4;
export const FAULTS_TIMEOUT_MS = 800;
/** A query with no reply in this long is lost (more than timeoutMs, so a SERVFAIL or stale answer has arrived). */
export const LOAD_REPLY_TIMEOUT_MS = 3000;

// ---- case 7: TCP hoard ----
/** Idle connections the node itself opens and holds (fewer when the open-files limit is lower, see cases/tcp-hoard.ts). */
export const HOARD_CONNS = 1500;
/** How long they are held while clients resolve over TCP. */
export const HOARD_SECONDS = 10;
/**
 * The case sets tcp.maxConnections to the hoard's size, so the hoard fills it exactly; the idle
 * timeout outlasts the hold, so only the cap can make room.
 */
export const HOARD_IDLE_TIMEOUT_MS = 60_000;
/** Connections are opened this many at a time, each batch connected before the next. */
export const HOARD_BATCH = 100;
/** The hoard and one client are the node (127.0.0.1, exempt); the other client is a neighbour. */
export const HOARD_NEIGHBOUR = '127.0.0.56';

export const RESULTS_JSON = join(REPO_ROOT, 'test-results/chaos.json');
