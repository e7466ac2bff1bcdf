import FPMConfiguration
import FPMSystem

/// What process control takes in (events) and gives out (commands to the master).
extension ProcessControl {
    package enum Event: Equatable, Sendable {
        /// Pools are open and the first workers forked.
        case started(now: Int)
        /// A worker was forked, or inherited from the previous image of this master.
        case spawned(Child)
        case signal(Int32, now: Int)
        /// A child was reaped.
        case childExited(pid: Int32, status: ExitStatus, now: Int)
        /// The clock: escalations, the hand-over deadline and delayed respawns fall due.
        case tick(now: Int)
        /// Every pool of the new generation has a worker ready to accept.
        case generationReady(now: Int)
        /// The reload's configuration loaded and passed its checks; these pools (in order) are
        /// prepared before it goes on.
        case reloadChecked(candidate: FPMConfiguration, preparing: [String])
        /// The preparation asked for by `startPreparation` was forked; `output` is the read end
        /// of its stdout and stderr, watched by the loop (nil when it cannot be).
        case preparationStarted(pool: String, pid: Int32, output: Int32?, now: Int)
        /// The running preparation wrote this.
        case preparationOutput([UInt8])
        /// The running preparation's output reached end of file (or failed).
        case preparationOutputEnded
        /// The reaped preparation's output is all read: its outcome can be told.
        case preparationCollected(pool: String, now: Int)
        /// A preparation could not be started: the line that says why.
        case preparationFinished(pool: String, failure: String?)
        /// The candidate's new listeners are bound (none when it adds none).
        case listenersBound([ReloadInheritance.Listener])
        /// The exec returned: this is why.
        case execFailed(reason: String)
        /// The reload cannot go on (invalid configuration, a listener that cannot be bound): why.
        case reloadAborted(reason: String)
        /// The process manager retires this idle worker.
        case retire(pid: Int32, now: Int)
        /// This worker must go (pm.max_memory with no room for its replacement first): ask it to
        /// finish and replace it when it exits.
        case recycle(pid: Int32, now: Int)
        /// The worker's request ran past request_terminate_timeout.
        case requestTimedOut(pid: Int32, now: Int)
    }

    package enum Command: Equatable, Sendable {
        /// Graceful: the control-channel "quit" (without one: SIGQUIT for a Swift worker,
        /// SIGTERM for an `exec` program, which finishes its request on it).
        case askToQuit(pid: Int32)
        /// The master stops gracefully: the control-channel "finish" (finish the request in
        /// hand, serve the connections waiting on the listener, then exit); where there is no
        /// channel, as `askToQuit` (an `exec` program finishes its request and leaves the queue).
        case finish(pid: Int32)
        case signal(pid: Int32, signal: Int32)
        case spawn(pool: String)
        /// Reap every exited child (each comes back as `childExited`).
        case reapChildren
        /// Load and check the configuration for a reload; answer with `reloadChecked`, or
        /// `reloadAborted` when it is invalid.
        case validateReload(reason: String)
        /// Fork the reload's preparation of this pool; answer with `preparationStarted`, or
        /// `preparationFinished` with the failure when it cannot be started.
        case startPreparation(pool: String)
        /// The preparation's process was reaped: read what is left in its output without
        /// waiting; answer with `preparationOutput`s and `preparationCollected`.
        case collectPreparation(pool: String, output: Int32?)
        /// Stop watching a preparation's output and close it.
        case closePreparationOutput(Int32)
        /// Bind every address the candidate listens on that no pool serves yet; answer with
        /// `listenersBound`, or `reloadAborted`.
        case bindNewListeners
        /// Close listeners bound for a reload that will not happen (unix socket files removed).
        case closeListeners([ReloadInheritance.Listener])
        /// Re-execute the master with the candidate. Runs after every other queued command and
        /// event (`ControlQueue`); answers with `execFailed` only when exec returned.
        case execReload
        case reopenLogs
        /// A child is gone: release its slot and control channel.
        case release(Child)
        /// The previous generation was retired: the new one takes every connection now.
        case handedOver
        case log(LogSeverity, String)
        case writeState
        case exit(code: Int32)
    }
}
