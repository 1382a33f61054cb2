// Package emulator is an in-process emulator of an Apache Mesos 1.12 master
// that speaks the v1 scheduler HTTP API (POST /api/v1/scheduler) and serves
// GET /master/state, /master/frameworks, /master/slaves and /master/redirect.
//
// It is written from the wire protocol recorded against a real Mesos 1.12
// master (internal/mesosemulator/testdata/mesos-1.12-recording.md): status codes, error texts, RecordIO
// framing, the SUBSCRIBED/HEARTBEAT/OFFERS sequence, the hierarchical
// allocator's one-offer-per-agent-per-role behaviour with weighted DRF role
// ordering, decline filters, acknowledgement-gated status updates,
// reconciliation answers, failover, teardown and HTTP basic authentication.
//
// Agents are simulated: tasks launched on them go TASK_STARTING then
// TASK_RUNNING (as the command executor reports them) and stay running until
// they are killed, finished via (*Master).FinishTask, or their agent is
// removed or partitioned through the fault-injection methods.
//
// Typical use in a test:
//
//	m, err := emulator.Start(emulator.Config{
//		Listen: "127.0.0.1:0",
//		Agents: []emulator.Agent{{Hostname: "node-1", Resources: emulator.Resources{CPUs: 4, Mem: 8192}}},
//	})
//	if err != nil { ... }
//	defer m.Close()
//	// point the scheduler under test at m.SchedulerURL()
//
// # Deviations from a real master
//
// Where the recordings are silent the emulator follows the Mesos docs or, failing
// that, makes a documented choice:
//
//   - Only unreserved cpus/mem/disk/gpus scalars and ports ranges exist. Offer
//     operations other than LAUNCH and LAUNCH_GROUP are accepted and ignored;
//     tasks using reserved or unknown resources get TASK_ERROR.
//   - Executors are simulated: TASK_STARTING and TASK_RUNNING are produced at
//     launch time (delivery still waits for acknowledgements), tasks run until
//     killed, finished with FinishTask or lost with their agent. TASK_KILLING is
//     never sent.
//   - Events caused by a call are queued before its HTTP answer is written (a
//     real master races the two).
//   - DRF ties are broken by the number of allocations made so far, then by
//     name: this reproduces the recorded role alternation.
//   - A call for a known but disconnected framework answers 403 "Framework is
//     not subscribed" (not recorded; taken from the master's behaviour).
//   - KILL of an unknown task is answered like an explicit reconciliation.
//   - Implicit reconciliation reports non-terminal tasks only (per the docs);
//     tasks on partitioned agents are reported TASK_UNREACHABLE.
//   - Agent removal and partition updates use REASON_AGENT_REMOVED with the
//     messages "Agent <host> removed: agent unregistered" and "Agent <host> is
//     unreachable: health check timed out" (not recorded). On HealAgent the
//     tasks of every framework (PARTITION_AWARE or not) come back running.
//     Explicit reconciliation naming a removed agent answers TASK_UNKNOWN.
//   - Inverse offers go once per (framework, maintenance window); answered
//     ones are not re-sent and CancelMaintenance rescinds only unanswered ones.
//   - Unacknowledged updates are retried after StatusUpdateRetry (10s,
//     doubling), re-sent on re-SUBSCRIBE and UPDATE_FRAMEWORK.
//   - Content-Type is compared exactly, like the master (parameters give 415).
//   - SetLeader and ZooKeeper elections only move redirects and drop
//     streams; a master demoted that way keeps its frameworks disconnected
//     without failover timeout. A leader failover with state is
//     (*Master).TakeOver: the new leader gets the old one's agents (same
//     ids) with their tasks at once, as if every agent re-registered in the
//     same instant, and the old one restarts empty. When it was registered
//     in ZooKeeper, its znode lingers for Config.ZKSessionTimeout (10 s,
//     a real master's session timeout: its process dies without closing
//     the session), so ZooKeeper names the dead leader until then; then it
//     leaves and joins again as a standby. Agents never
//     re-register late, so the "recovered agent" window of a real failover
//     (explicit reconciliation left unanswered) is not emulated.
//   - With Config.TLS the master serves HTTPS only; the Location of a 307
//     stays scheme-relative ("//host:port/..."), as recorded.
//   - The MasterInfo capability QUOTA_V2 (value 3) is sent as a real 1.12
//     master does although mesos-go v0.0.11 has no constant for it (see
//     QuotaV2); mesos-go's JSON decoder rejects that name, its protobuf
//     decoder does not.
package mesosemulator
