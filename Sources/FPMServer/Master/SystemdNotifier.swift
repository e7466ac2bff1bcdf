import FPMStatus
import FPMSystem

/// systemd's `Type=notify`, spoken by the master without libsystemd: what to tell the service
/// manager and when, as a value (events in, messages out); `Master+Systemd` sends them.
///
/// The protocol (sd_notify(3)): READY=1 once the service serves; RELOADING=1 with
/// MONOTONIC_USEC= when a reload starts, READY=1 when it is done (or abandoned); STOPPING=1 on
/// the way out; STATUS= a line `systemctl status` shows; WATCHDOG=1 every half of the
/// WATCHDOG_USEC systemd asked for. A reload re-executes the master in place: the environment
/// and the pid stay, so the new image reads the same variables and keeps notifying.
package struct SystemdNotifier: Sendable, Equatable {
    /// NOTIFY_SOCKET: a path, or `@name` for an abstract socket.
    package let socket: String
    /// Half of WATCHDOG_USEC, nanoseconds; nil when systemd asked for no watchdog.
    package let watchdogInterval: Int?
    /// `systemd_interval`, nanoseconds; nil (0) sends no STATUS= updates.
    package let statusInterval: Int?

    package private(set) var announcedReady = false
    package private(set) var stopping = false
    /// While a reload runs: the reload failures counted when it started (more means it failed).
    package private(set) var reloadingSince: Int?
    private var nextWatchdog: Int
    private var nextStatus: Int
    private var lastRequests: Int?

    /// What the master tells the notifier.
    package enum Event: Sendable, Equatable {
        /// The serving generation has a ready worker in every pool that starts workers.
        case serving
        /// A reload starts (SIGUSR2/SIGHUP or an emergency restart); `reloadFailures` so far.
        case reloadStarted(nowMono: Int, reloadFailures: Int)
        /// The state changed; a reload whose failure count grew was abandoned.
        case reloadFailuresNow(Int)
        case stopping
        /// The loop woke; `figures` are the pools' totals when a STATUS= line is due.
        case tick(nowMono: Int, figures: StatusFigures?)
    }

    /// The pools' totals a STATUS= line shows (php-fpm's systemd status line).
    package struct StatusFigures: Sendable, Equatable {
        package var active: Int
        package var idle: Int
        package var requests: Int
        package var slow: Int
        /// `fpmctl drain` is in force: the line starts with "Draining (readiness off); ".
        package var draining = false

        package init(active: Int, idle: Int, requests: Int, slow: Int, draining: Bool = false) {
            self.active = active
            self.idle = idle
            self.requests = requests
            self.slow = slow
            self.draining = draining
        }
    }

    /// From the environment systemd gives: nil without NOTIFY_SOCKET. WATCHDOG_PID, when set,
    /// must be this process (else the watchdog is someone else's).
    package init?(environment: [String: String], pid: Int32, systemdIntervalSeconds: Int, nowMono: Int) {
        guard let socket = environment["NOTIFY_SOCKET"], !socket.isEmpty else { return nil }
        self.socket = socket
        var watchdog: Int? = nil
        if let usec = environment["WATCHDOG_USEC"].flatMap({ Int($0) }), usec > 0,
           environment["WATCHDOG_PID"].map({ Int32($0) == pid }) ?? true {
            watchdog = usec * 1000 / 2
        }
        watchdogInterval = watchdog
        statusInterval = systemdIntervalSeconds > 0 ? systemdIntervalSeconds * 1_000_000_000 : nil
        nextWatchdog = nowMono
        nextStatus = nowMono + (statusInterval ?? 0)
    }

    /// Whether a STATUS= line is due at `nowMono` (the caller then gathers the figures).
    package func statusDue(nowMono: Int) -> Bool {
        statusInterval != nil && announcedReady && nowMono >= nextStatus
    }

    /// How long the master's wait may last before something is due here, milliseconds.
    package func wakeMillis(nowMono: Int) -> Int32? {
        var next: Int? = nil
        if watchdogInterval != nil { next = nextWatchdog }
        if statusInterval != nil { next = min(next ?? nextStatus, nextStatus) }
        guard let next else { return nil }
        return SystemClock.millisecondsLeft(until: next, now: nowMono)
    }

    /// The datagrams to send for `event`, in order.
    package mutating func handle(_ event: Event) -> [String] {
        var out: [String] = []
        switch event {
        case .serving:
            guard !stopping, !announcedReady || reloadingSince != nil else { break }
            // After a reload's exec the new image starts unannounced: its READY=1 ends the reload.
            announcedReady = true
            reloadingSince = nil
            out.append("READY=1")
        case .reloadStarted(let now, let failures):
            guard !stopping else { break }
            reloadingSince = failures
            out.append("RELOADING=1\nMONOTONIC_USEC=\(now / 1000)")
        case .reloadFailuresNow(let failures):
            if let since = reloadingSince, failures > since, !stopping {
                reloadingSince = nil
                out.append("READY=1")
            }
        case .stopping:
            guard !stopping else { break }
            stopping = true
            out.append("STOPPING=1")
        case .tick(let now, let figures):
            if let interval = watchdogInterval, now >= nextWatchdog {
                out.append("WATCHDOG=1")
                nextWatchdog = now + interval
            }
            if let interval = statusInterval, announcedReady, now >= nextStatus, let figures {
                let perSecond = lastRequests.map { Double(max(0, figures.requests - $0)) * 1e9 / Double(interval) } ?? 0
                lastRequests = figures.requests
                out.append("STATUS=" + SystemdNotifier.statusLine(figures, requestsPerSecond: perSecond))
                nextStatus = now + interval
            }
        }
        return out
    }

    /// php-fpm's wording, so what operators read in `systemctl status` carries over.
    package static func statusLine(_ f: StatusFigures, requestsPerSecond: Double) -> String {
        (f.draining ? "Draining (readiness off); " : "") + "Processes active: \(f.active), idle: \(f.idle), Requests: \(f.requests), slow: \(f.slow), Traffic: \(threeSignificant(requestsPerSecond))req/sec"
    }

    /// Like C's `%.3g` for the values a request rate takes (no exponent below 1000).
    package static func threeSignificant(_ value: Double) -> String {
        guard value.isFinite, value > 0 else { return "0" }
        if value >= 100 { return String(Int(value.rounded())) }
        let decimals = value >= 10 ? 1 : (value >= 1 ? 2 : 3)
        var text = TextRendering.fixed(value, decimals: decimals)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }
}
