// Package mesos is the Mesos-master offer source: a framework on the Mesos
// v1 scheduler HTTP API, built on github.com/mesos/mesos-go (this is the
// only package that imports it; its types never leave the package).
//
//   - Source implements offer.Source: SUBSCRIBE (MULTI_ROLE, GPU_RESOURCES,
//     PARTITION_AWARE), the event stream (SUBSCRIBED, OFFERS, RESCIND, UPDATE
//     acknowledged, FAILURE, ERROR, HEARTBEAT), ACCEPT with one LAUNCH per
//     pod, DECLINE with refuse_seconds, SUPPRESS / REVIVE per role,
//     UPDATE_FRAMEWORK when the role set grows, KILL.
//   - Each pod placed through a Mesos offer is launched as a placeholder task
//     holding exactly the pod's requests (task ID = pod UID, the Apache Myriad
//     pattern), so the master offers those resources to nobody else.
//   - Agents map to nodes by hostname (node name, or a node label).
//
// Calls go through mesos-go's httpsched caller (Mesos-Stream-Id handling);
// the subscription loop is mesos-go's controller, restarted per
// subscription so that every subscription is made to the current leading
// master (httpsched follows a 307 only for SUBSCRIBE and keeps the old
// endpoint for later calls).
package mesos
