import FPMSystem
import Synchronization

/// Runs an app's async code on the worker's own thread, one operation at a time, while the
/// worker's request loop waits for it: the bridge between the synchronous worker (blocking I/O,
/// one request in hand) and `async` handlers.
///
/// `run` hands the operation to a task whose executor preference is this executor, so every
/// nonisolated part of it runs here, on the calling thread, in `run`'s loop: code after an
/// `await` on a database driver's event loop comes back to the worker's thread, where the
/// slowlog's signal sees its stack and where request_terminate_timeout's signal lands. The
/// worker's executor keeps one such task for its life (parked between requests), so a request
/// costs one resumed continuation, not a task made and ended.
/// The executor is made on first use, in the process that uses it (a worker, after fork) and
/// starts no thread: a worker whose app never awaits has one thread; one whose app awaits
/// another library's I/O has that library's threads (a NIO event loop), no others from here.
///
/// Jobs enqueued while no `run` is in progress (a task the app left running past its request)
/// wait for the next `run`: between requests the worker waits in epoll, not here.
package final class WorkerExecutor: TaskExecutor, @unchecked Sendable {
    /// The process's executor, made on first use.
    static let shared = WorkerExecutor()
    /// Whether a thread is in `shared`'s loop. A worker has one thread and never nests; a
    /// second caller (a test runner's parallel tests, a `run` nested inside a handler) gets an
    /// executor of its own instead, since one loop owns a queue and its doorbell.
    private let busy = Atomic<Bool>(false)

    /// Jobs from any thread; the owner swaps the array out and runs them outside the lock.
    private let queue = Mutex<[UnownedJob]>([])
    /// Spare storage for the queue, so a batch taken out allocates nothing (only the thread
    /// inside `run` touches it).
    private var spare: [UnownedJob] = []
    private let doorbell = Doorbell()

    package init() {
        spare.reserveCapacity(16)
        queue.withLock { $0.reserveCapacity(16) }
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.withLock { $0.append(job) }
        doorbell.ring()
    }

    /// Runs `operation` to its end and returns what it threw, blocking the calling thread,
    /// which runs the operation's jobs meanwhile and sleeps on the doorbell between them.
    package static func run(_ operation: @escaping () async throws -> Void) throws {
        guard shared.busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return try WorkerExecutor().runInNewTask(operation)
        }
        defer { shared.busy.store(false, ordering: .releasing) }
        try shared.runOnServer(operation)
    }

    // MARK: the worker's server task

    /// The shared executor's one long-lived task, parked between operations: it runs each
    /// operation it is handed and parks again. Handing it the next one resumes a continuation
    /// (one job on this executor), which costs a fraction of creating and ending a task per
    /// request. Only the thread in `run` touches these (the server task runs on that thread).
    private var parked: UnsafeContinuation<Void, Never>?
    private var serverStarted = false
    private var pending: (() async throws -> Void)?
    private var failure: (any Error)?
    private let finished = Atomic<Bool>(false)

    private func runOnServer(_ operation: @escaping () async throws -> Void) throws {
        pending = operation
        failure = nil
        finished.store(false, ordering: .relaxed)
        if let parked {
            self.parked = nil
            parked.resume()
        } else if !serverStarted {
            serverStarted = true
            // The operations it runs capture what is not Sendable; sound for the same reason as
            // in `runInNewTask`: the server task runs on this thread, while this thread waits
            // in `run` for it.
            Task.immediate(executorPreference: self) { await self.serve() }
        }
        while !finished.load(ordering: .acquiring) {
            if !runQueued() {
                if finished.load(ordering: .acquiring) { break }
                doorbell.wait()
            }
        }
        if let error = failure {
            failure = nil
            throw error
        }
    }

    /// The server task's body: run what was handed over, tell `run`, park until the next one.
    private func serve() async {
        while true {
            if let operation = pending {
                pending = nil
                do {
                    try await operation()
                } catch {
                    failure = error
                }
                finished.store(true, ordering: .releasing)
                // Its end may come on another thread (an actor's) while this one sleeps.
                doorbell.ring()
            }
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in parked = continuation }
        }
    }

    // MARK: a task per operation (a nested or concurrent caller's own executor)

    private func runInNewTask(_ operation: @escaping () async throws -> Void) throws {
        let outcome = Outcome()
        // The operation's captures (the request and response views, the app's handler) are not
        // Sendable. Handing them to the task is sound: the calling thread blocks here until the
        // task has ended, and the task's nonisolated code runs on this same thread (the executor
        // preference), so nothing touches them from two threads.
        nonisolated(unsafe) let operation = operation
        let doorbell = self.doorbell
        Task.immediate(executorPreference: self) {
            do {
                try await operation()
            } catch {
                outcome.error = error
            }
            outcome.finished.store(true, ordering: .releasing)
            // Its end may come on another thread (an actor's) while this one sleeps.
            doorbell.ring()
        }
        while !outcome.finished.load(ordering: .acquiring) {
            if !runQueued() {
                if outcome.finished.load(ordering: .acquiring) { break }
                doorbell.wait()
            }
        }
        if let error = outcome.error { throw error }
    }

    /// Runs the jobs queued now; false when there were none.
    private func runQueued() -> Bool {
        // The spare storage goes into the queue and the queued jobs come out, in one lock.
        var jobs: [UnownedJob] = []
        swap(&jobs, &spare)
        queue.withLock { swap(&$0, &jobs) }
        if !jobs.isEmpty {
            let me = asUnownedTaskExecutor()
            for job in jobs { job.runSynchronously(on: me) }
        }
        let ran = !jobs.isEmpty
        jobs.removeAll(keepingCapacity: true)
        if spare.capacity < jobs.capacity { swap(&jobs, &spare) }
        return ran
    }

    /// One operation's end, written by its task and read by the thread in `run`.
    private final class Outcome: @unchecked Sendable {
        let finished = Atomic<Bool>(false)
        /// Written before `finished` is set (release), read after it is seen (acquire).
        var error: (any Error)?
    }
}
