import FPMSystem
import Glibc

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
        /// The reload's new configuration checked out: go ahead and re-execute.
        case reloadValidated
        /// The reload's new configuration loaded and passed its checks; these pools (in order)
        /// are prepared before it goes on.
        case reloadChecked(preparing: [String])
        /// The preparation asked for by `startPreparation` was forked.
        case preparationStarted(pool: String, pid: Int32, now: Int)
        /// A preparation is over (its exit handled, or it could not be started): nil when it
        /// succeeded, else the line that says why not.
        case preparationFinished(pool: String, failure: String?)
        /// The process manager retires this idle worker.
        case retire(pid: Int32, now: Int)
        /// This worker must go (pm.max_memory with no room for its replacement first): ask it to
        /// finish and replace it when it exits.
        case recycle(pid: Int32, now: Int)
        /// The worker's request ran past request_terminate_timeout.
        case requestTimedOut(pid: Int32, now: Int)
    }

    package enum Command: Equatable, Sendable {
        /// Graceful: the control-channel "quit" (SIGQUIT where there is none).
        case askToQuit(pid: Int32)
        case signal(pid: Int32, signal: Int32)
        case spawn(pool: String)
        /// Reap every exited child (each comes back as `childExited`).
        case reapChildren
        /// Check the configuration for a reload; answer with `reloadChecked` (nothing when invalid).
        case validateReload(reason: String)
        /// Re-execute the master with the validated configuration.
        case execReload
        /// Fork the reload's preparation of this pool; answer with `preparationStarted`, or
        /// `preparationFinished` with the failure when it cannot be started.
        case startPreparation(pool: String)
        /// The preparation's process was reaped (killed at its deadline when `timedOut`): read
        /// the rest of its output; answer with `preparationFinished`.
        case preparationExited(pool: String, pid: Int32, status: ExitStatus, timedOut: Bool)
        /// Every preparation succeeded: open the new listeners; answer with `reloadValidated`.
        case finishReload
        /// The reload cannot go on (a preparation failed): the running generation keeps serving.
        case abortReload(reason: String)
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
