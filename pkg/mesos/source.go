package mesos

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/encoding"
	"github.com/mesos/mesos-go/api/v1/lib/extras/scheduler/controller"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/httpsched"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/cluster"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/metrics"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/offer"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

const (
	// maxResubscribeBackoff caps the wait between subscriptions (Mesos'
	// guidance for schedulers is at most 15 s).
	maxResubscribeBackoff = 15 * time.Second
	// defaultHeartbeat is assumed until SUBSCRIBED says otherwise.
	defaultHeartbeat = 15 * time.Second
	// callTimeout bounds one call to the master.
	callTimeout = 30 * time.Second
)

// Source is the Mesos-master offer source. It implements offer.Source.
type Source struct {
	// ctx is Run's: for work that outlives one subscription.
	ctx      context.Context
	cfg      Config
	state    *cluster.State
	client   kubernetes.Interface
	recorder events.EventRecorder
	codec    encoding.Codec
	logger   klog.Logger
	nodes    corelisters.NodeLister

	// roleCalls orders the calls that change which roles the master
	// offers to (SUPPRESS, REVIVE, UPDATE_FRAMEWORK): each holds it from
	// reading the roles' state to recording what its call did, so the
	// master applies them in the order the state records them. Without
	// it, a SUPPRESS decided before an orphan pod appeared could reach
	// the master after that pod's REVIVE: the role stayed suppressed there
	// and active here, and its pods got no offer until another pod of the
	// role came. Lock order: roleCalls, then mu.
	roleCalls sync.Mutex

	mu          sync.Mutex
	caller      calls.Caller // of the current subscription; nil when none
	acks        *acker       // of the current subscription; nil when none
	frameworkID string
	roles       sets.Set[string] // FrameworkInfo.roles
	// subscribedWith is FrameworkInfo.roles as the master last accepted
	// it (SUBSCRIBE, then each UPDATE_FRAMEWORK that succeeded): a role in
	// roles but not here — added while the SUBSCRIBE was on its way, or
	// by an UPDATE_FRAMEWORK that failed — is added by the next call.
	subscribedWith sets.Set[string]
	// subscribedIdle are the roles the last SUBSCRIBE named in
	// suppressed_roles: one revived while that call was on its way (its
	// REVIVE failed, not subscribed yet) is revived once SUBSCRIBED
	// arrives.
	subscribedIdle sets.Set[string]
	// active are the roles the plugin wants offers for: revived and not
	// suppressed since. Every other role of the framework is suppressed at
	// the master, from the SUBSCRIBE on (a master forgets suppression when
	// a framework subscribes again).
	active sets.Set[string]
	// suppressed are the roles the master suppresses for us in the current
	// subscription, as our SUBSCRIBE, SUPPRESS and UPDATE_FRAMEWORK calls
	// left them.
	suppressed  sets.Set[string]
	heartbeat   time.Duration
	lastEvent   time.Time
	offers      map[string]*mesos.Offer // outstanding, by offer ID
	agents      map[string]string       // agent ID -> node
	handler     offer.Handler
	tasks       *tasks
	maintenance *maintenance
	subscribed  chan struct{}    // closed and replaced on each SUBSCRIBED
	connected   bool             // between SUBSCRIBED and the end of that subscription
	leader      string           // the master of the current subscription
	lastErr     error            // why the last subscription ended or failed
	seenNodes   sets.Set[string] // nodes some offer's agent mapped to
	// held is, per node, what its agent holds outside this framework
	// (other frameworks' tasks and offers), as the last offer there showed
	// it: the agent's resources minus our pods and our offers.
	held map[string]resources.Vector
	// returning is what we gave back lately, by the offer's ID
	// (noteReturningLocked).
	returning map[string]returning
}

var (
	_ offer.Source      = &Source{}
	_ offer.Killer      = &Source{}
	_ offer.Maintenance = &Source{}
	_ offer.Explainer   = &Source{}
	_ offer.Capacity    = &Source{}
	_ offer.Statuser    = &Source{}
)

// Status says whether the source is subscribed, and to which master.
func (s *Source) Status() offer.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.connected {
		return offer.Status{}
	}
	return offer.Status{Connected: true, Leader: s.leader}
}

// serves says whether a node is this master's to place on (Config.Serves);
// an unknown node is not.
func (s *Source) serves(name string) bool {
	if s.cfg.Serves == nil {
		return true
	}
	n, err := s.nodes.Get(name)
	return err == nil && s.cfg.Serves(n)
}

// New returns a Mesos source. factory and client are the scheduler's; the
// recorder emits pod events about their tasks.
func New(cfg Config, state *cluster.State, factory informers.SharedInformerFactory, client kubernetes.Interface, recorder events.EventRecorder) (*Source, error) {
	s := &Source{
		cfg: cfg, state: state, client: client, recorder: recorder, codec: codec(cfg.JSON),
		roles: sets.New[string](), active: sets.New[string](), suppressed: sets.New[string](), heartbeat: defaultHeartbeat, offers: map[string]*mesos.Offer{},
		agents: map[string]string{}, subscribed: make(chan struct{}), ctx: context.Background(), held: map[string]resources.Vector{}, returning: map[string]returning{},
	}
	s.nodes = factory.Core().V1().Nodes().Lister()
	s.tasks = newTasks(s)
	s.maintenance = newMaintenance(s)
	if err := s.tasks.watchPods(factory); err != nil {
		return nil, err
	}
	metrics.RegisterMesos()
	return s, nil
}

// Run subscribes to the leading master, handles its events and subscribes
// again (to the new leader, with the same framework ID, after a capped
// backoff) whenever the subscription ends, until ctx is done. It starts once
// the scheduler's informers have synced: with leader election and
// delayCacheUntilActive, only on the active replica.
func (s *Source) Run(ctx context.Context, h offer.Handler) error {
	s.logger = klog.FromContext(ctx).WithName("mesos")
	if s.cfg.Name != "" {
		s.logger = s.logger.WithValues("source", s.cfg.Name)
	}
	s.mu.Lock()
	s.ctx = ctx
	s.handler = h
	s.mu.Unlock()
	if err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(context.Context) (bool, error) {
		return s.state.HasSynced(), nil
	}); err != nil {
		return nil
	}
	// After the sync: events recorded before the scheduler starts its
	// event broadcaster are dropped.
	s.warnUnsafeConfig()
	finder, err := newLeaderFinder(ctx, s.cfg.Master, s.cfg.TLS)
	if err != nil {
		return err
	}
	s.loadFrameworkID(ctx)
	s.logger.Info("Mesos offer source starting", "config", s.cfg.String(), "frameworkID", s.currentFrameworkID())
	go s.tasks.run(ctx)
	backoff := wait.Backoff{Duration: 500 * time.Millisecond, Factor: 2, Jitter: 0.2, Steps: math.MaxInt32, Cap: maxResubscribeBackoff}
	for ctx.Err() == nil {
		leader, err := finder.Leader(ctx)
		if err != nil {
			leader = ""
		}
		if err == nil {
			var ok bool
			ok, err = s.subscribe(ctx, leader, finder.Changed())
			if ok {
				backoff = wait.Backoff{Duration: 500 * time.Millisecond, Factor: 2, Jitter: 0.2, Steps: math.MaxInt32, Cap: maxResubscribeBackoff}
			}
		}
		if ctx.Err() != nil {
			break
		}
		s.mu.Lock()
		s.lastErr = err
		s.mu.Unlock()
		if err != nil {
			metrics.MesosSubscriptionErrors.WithLabelValues(errorClass(err)).Inc()
		}
		// Jitter is added to the capped step: cap the sum, as documented.
		wait := min(backoff.Step(), maxResubscribeBackoff)
		s.logger.Info("Mesos subscription ended; subscribing again", "err", err, "after", wait)
		if next := waitForLeader(ctx, finder, leader, wait); next != "" {
			s.logger.Info("New leading master; subscribing now", "leader", next)
		}
	}
	return nil
}

// leaderPollInterval is how often, while waiting to subscribe again, the
// masters' /master/redirect is asked whether another master leads now
// (ZooKeeper signals a change itself).
const leaderPollInterval = 500 * time.Millisecond

// waitForLeader waits d before the next subscription attempt, or less: it
// returns as soon as the finder names a leader other than last (ZooKeeper's
// election changed, or a master redirects elsewhere), so a leader change
// never waits out the backoff. It returns the new leader, or "" when the
// wait ran out or ctx ended.
func waitForLeader(ctx context.Context, finder leaderFinder, last string, d time.Duration) string {
	timer := time.NewTimer(d)
	defer timer.Stop()
	var poll <-chan time.Time
	if finder.Changed() == nil {
		t := time.NewTicker(leaderPollInterval)
		defer t.Stop()
		poll = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return ""
		case <-timer.C:
			return ""
		case <-finder.Changed():
		case <-poll:
		}
		// A signal or a poll: ask who leads now (consumes the signal).
		if l, err := finder.Leader(ctx); err == nil && l != last {
			return l
		}
	}
}

// subscribe runs one subscription to the leader until it ends, the leader
// changes, or heartbeats stop. It reports whether SUBSCRIBED was received.
func (s *Source) subscribe(ctx context.Context, leader string, leaderChanged <-chan struct{}) (bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	caller := httpsched.NewCaller(httpcli.New(
		httpcli.Endpoint(leader+"/api/v1/scheduler"),
		httpcli.Codec(s.codec),
		httpcli.Do(httpcli.With(s.httpOptions()...)),
		httpcli.WrapDoer(updateFrameworkOK),
	),
		httpsched.MaxRedirects(0),
		// By default httpsched ends the subscription when any call fails
		// (it takes every error for a lost leader); only a redirect means
		// that. A call that fails (a 400, a timeout) is reported to its
		// caller; the stream and the watchdog tell when the master is gone.
		httpsched.EndpointCandidates(func() string { return "" }),
	)
	acks := newAcker()
	go acks.run(ctx, ackWorkers, s.call, func(c *scheduler.Call, err error) {
		s.logger.V(2).Info("ACKNOWLEDGE failed", "taskID", c.GetAcknowledge().GetTaskID().Value, "err", err)
	})
	s.mu.Lock()
	s.caller, s.acks = caller, acks
	s.lastEvent = time.Now()
	subscribed := s.subscribed
	info := s.frameworkInfoLocked()
	s.subscribedWith = sets.New(info.Roles...)
	// The SUBSCRIBE names the idle roles in suppressed_roles; they are
	// also SUPPRESSed again once subscribed (the next sweep), as a master
	// that ignored the field would otherwise offer them every agent.
	idle := s.idleRolesLocked()
	s.subscribedIdle = sets.New(idle...)
	s.suppressed = sets.New[string]()
	s.roleGaugesLocked()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		was, leader, runCtx := s.connected, s.leader, s.ctx
		s.caller, s.acks, s.connected, s.leader = nil, nil, false, ""
		s.suppressed = sets.New[string]()
		s.mu.Unlock()
		if was && runCtx.Err() == nil {
			s.sourceEvent(v1.EventTypeWarning, ReasonDisconnected, "Subscribe", "Subscription to the Mesos master %s ended; pods wait for this source's nodes until it is subscribed again", leader)
		}
		s.dropOffers()
	}()

	var lastErr error
	go s.watchdog(ctx, cancel, leaderChanged)
	err := controller.Run(ctx, &info, caller,
		controller.WithEventHandler(s.eventHandler()),
		controller.WithFrameworkID(s.currentFrameworkID),
		controller.WithInitiallySuppressedRoles(idle),
		controller.WithSubscriptionTerminated(func(err error) {
			lastErr = err
			cancel() // one subscription per Run: the next goes to the leader of the moment
		}),
	)
	if lastErr == nil {
		lastErr = err
	}
	select {
	case <-subscribed:
		return true, lastErr
	default:
		return false, lastErr
	}
}

// watchdog ends the subscription when the leader changes or when
// MissedHeartbeats heartbeat intervals pass without an event.
func (s *Source) watchdog(ctx context.Context, cancel context.CancelFunc, leaderChanged <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-leaderChanged:
			s.logger.Info("Leading master changed")
			cancel()
			return
		case <-t.C:
			s.mu.Lock()
			silent, limit := time.Since(s.lastEvent), time.Duration(s.cfg.MissedHeartbeats)*s.heartbeat
			s.mu.Unlock()
			if silent > limit {
				s.logger.Info("Heartbeats missed; subscribing again", "silentFor", silent, "limit", limit)
				metrics.MesosMissedHeartbeats.Inc()
				cancel()
				return
			}
		}
	}
}

func (s *Source) httpOptions() []httpcli.ConfigOpt {
	opts := []httpcli.ConfigOpt{httpcli.Timeout(0), httpcli.Transport(func(t *http.Transport) {
		t.MaxConnsPerHost, t.MaxIdleConnsPerHost = maxMasterConns, maxMasterConns
	})}
	if s.cfg.TLS != nil {
		opts = append(opts, httpcli.TLSConfig(s.cfg.TLS))
	}
	if s.cfg.Principal != "" && s.cfg.secret != "" {
		opts = append(opts, httpcli.BasicAuth(s.cfg.Principal, s.cfg.secret))
	}
	return opts
}

// frameworkInfoLocked is the FrameworkInfo of the next SUBSCRIBE or
// UPDATE_FRAMEWORK: roles are the roles of namespaces with pending pods (and
// those subscribed so far). A role added here is active until suppressed.
func (s *Source) frameworkInfoLocked() mesos.FrameworkInfo {
	for _, r := range s.state.Roles() {
		if r.Pending > 0 && !s.roles.Has(r.Name) {
			s.roles.Insert(r.Name)
			s.active.Insert(r.Name)
		}
	}
	caps := []mesos.FrameworkInfo_Capability{
		{Type: mesos.FrameworkInfo_Capability_MULTI_ROLE},
		{Type: mesos.FrameworkInfo_Capability_PARTITION_AWARE},
	}
	if s.cfg.GPUResources {
		caps = append(caps, mesos.FrameworkInfo_Capability{Type: mesos.FrameworkInfo_Capability_GPU_RESOURCES})
	}
	failover := s.cfg.FailoverTimeout.Seconds()
	info := mesos.FrameworkInfo{
		User: s.cfg.User, Name: s.cfg.FrameworkName, Roles: sets.List(s.roles),
		Capabilities: caps, FailoverTimeout: &failover,
	}
	if s.cfg.Principal != "" {
		info.Principal = &s.cfg.Principal
	}
	if s.frameworkID != "" {
		info.ID = &mesos.FrameworkID{Value: s.frameworkID}
	}
	return info
}

func (s *Source) currentFrameworkID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.frameworkID
}

// call sends a call on the current subscription.
func (s *Source) call(ctx context.Context, c *scheduler.Call) error {
	s.mu.Lock()
	caller, id := s.caller, s.frameworkID
	s.mu.Unlock()
	if caller == nil || id == "" {
		return errNotSubscribed
	}
	c.FrameworkID = &mesos.FrameworkID{Value: id}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	resp, err := caller.Call(ctx, c)
	if resp != nil {
		resp.Close()
	}
	metrics.MesosCalls.WithLabelValues(c.GetType().String(), outcome(err)).Inc()
	if err != nil {
		return fmt.Errorf("%s: %w", c.GetType(), err)
	}
	return nil
}

var errNotSubscribed = errors.New("not subscribed to a Mesos master")

func outcome(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}

// Decline declines offers with refuse_seconds.
func (s *Source) Decline(ctx context.Context, offerIDs []string, refuse time.Duration) error {
	ids := make([]mesos.OfferID, 0, len(offerIDs))
	s.mu.Lock()
	for _, id := range offerIDs {
		if o := s.offers[id]; o != nil {
			v, _, _ := toVector(o.Resources, "")
			s.noteReturningLocked(id, o.AgentID.Value, v)
		}
		delete(s.offers, id)
		ids = append(ids, mesos.OfferID{Value: id})
	}
	s.mu.Unlock()
	defer s.answered(offerIDs...)
	return s.call(ctx, calls.Decline(ids...).With(calls.RefuseSeconds(refuse)))
}

// returnSettle is how long after the master answered our DECLINE or ACCEPT
// an offer may still have been made before it handled the call (the offer
// and the answer travel on two connections).
const returnSettle = 100 * time.Millisecond

// returning is what we gave back on an agent with one call (a DECLINE, the
// unused part of an ACCEPT), and when the master answered the call (zero
// while it has not).
type returning struct {
	agentID  string
	res      resources.Vector
	answered time.Time
}

// noteReturningLocked records resources given back on an agent by the call
// about an offer.
func (s *Source) noteReturningLocked(offerID, agentID string, res resources.Vector) {
	if res.IsZero() {
		return
	}
	s.returning[offerID] = returning{agentID: agentID, res: res}
}

// answered records that the master answered the calls about these offers.
func (s *Source) answered(offerIDs ...string) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range offerIDs {
		if r, ok := s.returning[id]; ok {
			r.answered = now
			s.returning[id] = r
		}
	}
}

// returningLocked sums what may still be on its way back on an agent: the
// calls not answered yet, or answered too recently to be in the offer that
// just arrived. Older ones are forgotten: the master had them back when it
// made this offer (they are in it, or taken by another framework since).
func (s *Source) returningLocked(agentID string) resources.Vector {
	out := resources.Vector{}
	now := time.Now()
	for id, r := range s.returning {
		if r.agentID != agentID {
			continue
		}
		if !r.answered.IsZero() && now.Sub(r.answered) > returnSettle {
			delete(s.returning, id)
			continue
		}
		out.Add(r.res)
	}
	return out
}

// Suppress stops offers to the roles, except roles with orphan pods waiting
// for an offer to relaunch their tasks. It is idempotent and cheap: only
// roles of the framework that the master does not suppress yet in this
// subscription are sent in a SUPPRESS, so the plugin may name every idle
// role on every sweep. Roles stay suppressed across re-subscriptions: the
// next SUBSCRIBE names them in suppressed_roles.
func (s *Source) Suppress(ctx context.Context, roles ...string) error {
	s.roleCalls.Lock()
	defer s.roleCalls.Unlock()
	s.mu.Lock()
	var send []string
	for _, r := range roles {
		s.active.Delete(r)
		if s.roles.Has(r) && !s.suppressed.Has(r) && !s.tasks.hasOrphans(r) {
			send = append(send, r)
		}
	}
	subscribed := s.connected // SUBSCRIBED received: calls are accepted
	s.mu.Unlock()
	if len(send) == 0 || !subscribed {
		return nil
	}
	if err := s.call(ctx, calls.SuppressWith(send)); err != nil {
		return err
	}
	s.mu.Lock()
	s.suppressed.Insert(send...)
	s.roleGaugesLocked()
	s.mu.Unlock()
	s.logger.V(3).Info("Roles suppressed", "roles", send)
	return nil
}

// idleRolesLocked returns the framework's roles to suppress at SUBSCRIBE:
// all but the active ones and those with orphan pods to relaunch.
func (s *Source) idleRolesLocked() []string {
	var out []string
	for _, r := range sets.List(s.roles) {
		if !s.active.Has(r) && !s.tasks.hasOrphans(r) {
			out = append(out, r)
		}
	}
	return out
}

// runContext returns Run's context (Background before Run).
func (s *Source) runContext() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctx
}

// roleGaugesLocked publishes how many roles the framework has and how many
// the master suppresses.
func (s *Source) roleGaugesLocked() {
	metrics.MesosFrameworkRoles.Set(float64(s.roles.Len()))
	metrics.MesosSuppressedRoles.Set(float64(s.suppressed.Len()))
}

// Why says why no pod gets offers while the source is not subscribed (the
// master is unreachable, refuses our credentials or certificate, ...): the
// pod then only waits, and preempting pods would not make the master offer
// more. While subscribed, a pod with no offer may need room: noRoom lets
// the DRF plugin try a preemption, whose dry run evicts nothing if the pod
// fits the room the scheduler can see.
func (s *Source) Why(types.UID) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.connected {
		return "", true
	}
	if s.lastErr != nil {
		// The scheduler ends the reason with a period: one the error (a
		// master's response body) ends with would double it.
		return fmt.Sprintf("not subscribed to the Mesos master (%s): %s", errorClass(s.lastErr), strings.TrimRight(s.lastErr.Error(), ". \n")), false
	}
	return "not subscribed to the Mesos master yet", false
}

// errorClass names the kind of a subscription error, for the metric and
// the pods' reason: bounded values.
func errorClass(err error) string {
	msg := err.Error()
	var uerr x509.UnknownAuthorityError
	var herr x509.HostnameError
	var cerr *tls.CertificateVerificationError
	switch {
	case errors.As(err, &uerr) || errors.As(err, &herr) || errors.As(err, &cerr) ||
		strings.Contains(msg, "x509:") || strings.Contains(msg, "tls:"):
		return "tls"
	case strings.Contains(msg, "401") || strings.Contains(msg, "not authenticated"):
		return "unauthenticated"
	case strings.Contains(msg, "403"):
		return "unauthorized"
	case strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host") ||
		strings.Contains(msg, "i/o timeout") || strings.Contains(msg, "no master") || strings.Contains(msg, "ZooKeeper"):
		return "unreachable"
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return "ended"
	}
	return "other"
}

// HeldElsewhere returns what a node's agent holds outside this framework,
// as its last offer showed it. It implements offer.Capacity.
func (s *Source) HeldElsewhere(node string) resources.Vector {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held[node].Clone()
}

// HeldElsewhereByNode returns HeldElsewhere of every node that holds
// something, as a map the caller owns (its vectors are copies).
func (s *Source) HeldElsewhereByNode() map[string]resources.Vector {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]resources.Vector, len(s.held))
	for n, h := range s.held {
		out[n] = h.Clone()
	}
	return out
}

// noteHeldLocked records what an agent holds outside this framework when an
// offer for it arrives: the master offers all of an agent's free resources
// at once, so the agent's resources minus ours (our pods or tasks there,
// and what we gave back with a call the master may not have handled when
// it made this offer) and our outstanding offers there is what others
// hold. A figure too high would shrink every role's target for good (roles
// at their target get no offers, so none corrects it); one too low lets
// the plan promise room that is not there. Lock order: s.mu, then the
// tasks' lock. Resources the node does not declare
// are left out. It reports whether the node's figure changed.
func (s *Source) noteHeldLocked(node, agentID string) bool {
	alloc, used, ok := s.state.NodeResources(node)
	if !ok {
		return false
	}
	// Ours on the agent: the pods the cluster places there, or the tasks
	// we run there if they hold more (a deleted pod's task until it is
	// killed, a task launched before its pod is seen bound).
	ours := used.Max(s.tasks.heldOn(agentID))
	ours.Add(s.returningLocked(agentID))
	held := alloc.Minus(ours)
	for _, o := range s.offers {
		if o.AgentID.Value == agentID {
			v, _, _ := toVector(o.Resources, "")
			held.Sub(v)
		}
	}
	delete(held, v1.ResourcePods)
	held = held.ClampZero()
	if held.Equal(s.held[node]) {
		return false
	}
	if held.IsZero() {
		delete(s.held, node)
	} else {
		s.held[node] = held
	}
	s.logger.V(4).Info("Resources held outside this framework changed", "node", node, "held", held, "agent", alloc, "ours", ours)
	return true
}

// nodeOfAgent returns the node an agent maps to, known from its offers.
func (s *Source) nodeOfAgent(agentID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.agents[agentID]
	return n, ok
}

// agentOfNode returns the ID of the agent a node maps to, or "".
func (s *Source) agentOfNode(node string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for a, n := range s.agents {
		if n == node {
			return a
		}
	}
	return ""
}

// Revive asks for offers to the roles now, clearing their filters and
// suppression. Roles the framework is not subscribed to are added first
// (UPDATE_FRAMEWORK, which names the roles still suppressed: the master
// replaces its set with the call's).
func (s *Source) Revive(ctx context.Context, roles ...string) error {
	s.roleCalls.Lock()
	defer s.roleCalls.Unlock()
	s.mu.Lock()
	s.roles.Insert(roles...)
	s.active.Insert(roles...)
	s.suppressed.Delete(roles...)
	info := s.frameworkInfoLocked()
	// Every role the master has not been told of yet (these, and any a
	// failed UPDATE_FRAMEWORK left out): the master refuses a REVIVE of a
	// role the framework lacks.
	missing := s.roles.Difference(s.subscribedWith)
	still := sets.List(s.suppressed)
	s.roleGaugesLocked()
	s.mu.Unlock()
	if missing.Len() > 0 && info.ID != nil {
		if err := s.call(ctx, calls.UpdateFramework(info, func(u *scheduler.Call_UpdateFramework) { u.SuppressedRoles = still })); err != nil {
			return err
		}
		s.mu.Lock()
		s.subscribedWith = s.subscribedWith.Union(missing)
		s.mu.Unlock()
		s.logger.V(2).Info("Framework roles updated", "roles", info.Roles, "suppressed", still)
	}
	return s.call(ctx, calls.ReviveWith(roles))
}

// afterSubscribe settles the roles that changed while the SUBSCRIBE was
// on its way: roles that joined FrameworkInfo.roles after it was sent are
// added (UPDATE_FRAMEWORK, naming the roles still suppressed: the master
// replaces its set with the call's), and they and the roles it named
// suppressed that are active again (their REVIVE failed, not subscribed
// yet) or have orphan pods to relaunch are revived. Without it, a pod of
// a new namespace created while the scheduler subscribes, or of a role
// revived meanwhile, would wait for offers its role never gets.
func (s *Source) afterSubscribe(ctx context.Context) {
	s.roleCalls.Lock()
	defer s.roleCalls.Unlock()
	s.mu.Lock()
	info := s.frameworkInfoLocked() // adds the roles of pods pending now
	late := s.roles.Difference(s.subscribedWith)
	woke := sets.New[string]()
	for r := range s.subscribedIdle {
		if s.active.Has(r) || s.tasks.hasOrphans(r) {
			woke.Insert(r)
		}
	}
	s.subscribedIdle = sets.New[string]()
	still := sets.List(s.suppressed)
	s.mu.Unlock()
	if late.Len() > 0 {
		if err := s.call(ctx, calls.UpdateFramework(info, func(u *scheduler.Call_UpdateFramework) { u.SuppressedRoles = still })); err != nil {
			// The next REVIVE sends UPDATE_FRAMEWORK again: the roles are
			// still missing from subscribedWith.
			s.logger.Error(err, "Adding roles that joined during the subscription", "roles", sets.List(late))
			return
		}
		s.mu.Lock()
		s.subscribedWith = s.subscribedWith.Union(late)
		s.mu.Unlock()
		s.logger.V(2).Info("Framework roles updated after subscribing", "roles", info.Roles, "added", sets.List(late))
	}
	revive := sets.List(late.Union(woke))
	if len(revive) == 0 {
		return
	}
	if err := s.call(ctx, calls.ReviveWith(revive)); err != nil {
		s.logger.Error(err, "REVIVE of roles that changed during the subscription", "roles", revive)
		return
	}
	s.logger.V(2).Info("Roles revived after subscribing", "roles", revive)
}

// dropOffers forgets and rescinds every outstanding offer (the subscription
// ended: the master removed them).
func (s *Source) dropOffers() {
	s.mu.Lock()
	ids := make([]string, 0, len(s.offers))
	for id := range s.offers {
		ids = append(ids, id)
	}
	s.offers = map[string]*mesos.Offer{}
	h := s.handler
	s.mu.Unlock()
	sort.Strings(ids)
	for _, id := range ids {
		h.Rescind(id)
	}
}

// ReasonUnsafeConfiguration is the reason of the Warning event on the
// framework ID ConfigMap (the scheduler's own object in Mesos mode) for
// each of Config.Warnings: a secret file others may read, a secret sent
// in clear.
const ReasonUnsafeConfiguration = "UnsafeMesosConfiguration"

// Reasons of the events on the framework ID ConfigMap about the
// subscription: one per SUBSCRIBED, one when a subscription ends.
const (
	ReasonSubscribed   = "MesosSubscribed"
	ReasonDisconnected = "MesosDisconnected"
)

// warnUnsafeConfig logs each configuration warning and records it as a
// Warning event on the framework ID ConfigMap, where `kubectl get events`
// in the scheduler's namespace shows it.
func (s *Source) warnUnsafeConfig() {
	for _, w := range s.cfg.Warnings {
		s.logger.Info("Warning: unsafe Mesos configuration", "warning", w)
		s.sourceEvent(v1.EventTypeWarning, ReasonUnsafeConfiguration, "Configure", "%s", w)
	}
}

// sourceEvent records an event about this source on its framework ID
// ConfigMap (one per master), naming the source when there are several.
func (s *Source) sourceEvent(eventType, reason, action, note string, args ...any) {
	ns, name, ok := strings.Cut(s.cfg.FrameworkIDStore, "/")
	if !ok || s.recorder == nil {
		return
	}
	if s.cfg.Name != "" {
		note = "source " + s.cfg.Name + ": " + note
	}
	ref := &v1.ObjectReference{Kind: "ConfigMap", APIVersion: "v1", Namespace: ns, Name: name}
	s.recorder.Eventf(ref, nil, eventType, reason, action, note, args...)
}
