import FPMConfiguration
import FPMSystem

/// A reload, all of it, as one value: where it is, what it carries, how often it failed.
/// `ProcessControl` owns it (`control.reload`) and is the only one that changes it; the master
/// reads it to carry out commands and holds no copy of any of it.
///
/// Its way, top to bottom (the transitions are in `ProcessControl+Reload.swift`, the I/O each
/// step asks for in `Master+Reload.swift`):
///
/// 1. **validate** — SIGUSR2/SIGHUP (or an emergency restart) while serving and idle:
///    `.validateReload` loads and checks the configuration → `.reloadChecked(candidate, preparing:)`,
///    or `.reloadAborted` (it is invalid).
/// 2. **prepare** — each pool with a once-per-pool preparation, one at a time, in a process of
///    its own watched from the loop (`.startPreparation` → `.preparationStarted`; its output as
///    `.preparationOutput`; its exit → `.collectPreparation` → `.preparationCollected`); a
///    failure or the deadline aborts the reload.
/// 3. **bind** — `.bindNewListeners`: every address the candidate listens on that no pool
///    serves yet is bound here, in the running image, so a port another process holds fails
///    the reload while the running generation is untouched → `.listenersBound` or `.reloadAborted`.
/// 4. **exec** — `.execReload` (run last, after everything queued before it): this binary is
///    re-executed in place with a `ReloadInheritance`; returning means it failed → `.execFailed`.
/// 5. **hand over** — in the new image: its workers start while the inherited ones serve;
///    when every pool has a ready worker (or at the deadline) the previous generation is asked
///    to finish (`.handedOver`).
///
/// Every failure leaves the running generation serving, counts in `failures`, and is told to
/// `fpmctl` through the state file (`lastError`).
extension ProcessControl {
    package struct Reload: Equatable, Sendable {
        /// Where the reload in flight is.
        package enum Step: Equatable, Sendable {
            case idle
            /// The configuration is being loaded and checked.
            case validating
            /// The candidate's pools are being prepared.
            case preparing(Preparation)
            /// The candidate's new listeners are being bound.
            case binding
            /// The exec is due (or under way).
            case execing
        }

        /// A pool's preparation: its process, deadline and output.
        package struct Preparation: Equatable, Sendable {
            /// The pool being prepared.
            package var pool: String
            /// Its process; nil until it is forked, and once it was reaped.
            package var pid: Int32?
            /// The read end of its stdout and stderr, watched by the loop; nil at end of file.
            package var output: Int32?
            /// What it wrote, up to `PoolPreparation.outputLimit` bytes.
            package var text: [UInt8] = []
            package var startedMono = 0
            /// When it is killed: the preparation limit, or a stop's kill grace.
            package var deadline = 0
            /// SIGKILL sent at the deadline.
            package var killed = false
            /// How it ended, once reaped.
            package var status: ExitStatus?
            /// The pools prepared after this one, in order.
            package var waiting: [String]

            package init(pool: String, waiting: [String]) {
                self.pool = pool
                self.waiting = waiting
            }
        }

        package var step = Step.idle
        /// The configuration the reload applies, from `.reloadChecked` until the exec or a failure.
        package var candidate: FPMConfiguration?
        /// Listeners the candidate adds, bound by this image for the next one.
        package var newListeners: [ReloadInheritance.Listener] = []
        /// In a re-executed image: when the previous generation is retired at the latest, while
        /// the new one starts (nil when nothing is handed over).
        package var handoverDeadline: Int?
        /// Reloads that failed since the first start (carried across execs), and the last reason.
        package var failures = 0
        package var lastError = ""

        package init(failures: Int = 0, lastError: String = "") {
            self.failures = failures
            self.lastError = lastError
        }

        /// The running preparation, if the reload is preparing.
        package var preparation: Preparation? {
            if case .preparing(let p) = step { return p }
            return nil
        }

        /// Whether a reload is in flight (a new one is then not taken).
        package var isInFlight: Bool { step != .idle }
    }

    /// The running preparation, if a reload is preparing.
    package var preparation: Reload.Preparation? { reload.preparation }
}
