import FPMSystem
import Gearman
import GearmanClient

/// A job worker's link to one job server: its connection when there is one, and when to try
/// again when there is not (`ReconnectBackoff`, never giving up).
final class ServerLink {
    let address: GearmanServerAddress
    var worker: GearmanWorker?
    var backoff = ReconnectBackoff(initialMillis: 100, maximumMillis: 2_000)
    /// When the next connection attempt is due (monotonic ns; 0: now).
    var nextAttempt = 0
    /// Whether the last attempt or connection failed: the state change is logged once.
    var down = false
    /// The jitter's source: a small xorshift seeded per worker, so workers cut off together
    /// do not all reconnect in the same instant.
    var random: UInt64

    init(address: GearmanServerAddress, seed: UInt64) {
        self.address = address
        self.random = seed | 1
    }

    func disconnect() {
        worker?.close()
        worker = nil
    }

    /// A value in 0..<1 for the backoff's jitter.
    func nextRandom() -> Double {
        random ^= random << 13
        random ^= random >> 7
        random ^= random << 17
        return Double(random >> 11) / Double(1 << 53)
    }
}

extension JobWorker {
    /// The id gearmand's `workers` shows for this worker: `fpm-POOL-PID` (no blanks allowed).
    var clientID: String { "fpm-\(String(pool.name.map { $0 == " " || $0 == "\t" ? "_" : $0 }))-\(pid)" }

    /// Connects (and registers the functions with) every server that is due.
    func connectDue() {
        let now = SystemClock.monotonicNanos()
        for link in servers where link.worker == nil && now >= link.nextAttempt {
            do {
                link.worker = try GearmanWorker(server: link.address, functions: functions,
                                                clientID: clientID, timeout: Self.ioTimeout)
                link.backoff.succeeded()
                if link.down {
                    link.down = false
                    log.notice("\(prefix): connected to gearmand \(link.address) again")
                }
            } catch {
                failed(link, error, now: now)
            }
        }
    }

    /// A connection broke (or a server answered with an error): closed, retried later.
    func lost(_ link: ServerLink, _ error: any Error) {
        link.disconnect()
        failed(link, error, now: SystemClock.monotonicNanos())
    }

    private func failed(_ link: ServerLink, _ error: any Error, now: Int) {
        let delay = link.backoff.failed(random: link.nextRandom())
        link.nextAttempt = now + delay * 1_000_000
        if !link.down {
            link.down = true
            log.warning("\(prefix): gearmand \(link.address) unreachable (\(error)); retrying every \(link.backoff.maximumMillis) ms at most")
        }
    }
}
