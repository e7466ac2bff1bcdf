import FPMServer
import Testing

/// What the master tells systemd, and when: the notifier is a value, so the whole protocol is
/// checked here without a service manager (the integration test receives the datagrams).
@Suite struct SystemdNotifierTests {
    let second = 1_000_000_000

    func notifier(_ env: [String: String] = ["NOTIFY_SOCKET": "/run/notify"], interval: Int = 10) -> SystemdNotifier? {
        SystemdNotifier(environment: env, pid: 100, systemdIntervalSeconds: interval, nowMono: 0)
    }

    @Test func nothingWithoutNotifySocket() {
        #expect(notifier([:]) == nil)
        #expect(notifier(["NOTIFY_SOCKET": ""]) == nil)
        #expect(notifier(["NOTIFY_SOCKET": "@abstract"])?.socket == "@abstract")
    }

    @Test func readyOnceThenReloadingAndReadyAgainThenStopping() throws {
        var n = try #require(notifier())
        #expect(n.handle(.serving) == ["READY=1"])
        #expect(n.handle(.serving) == [])
        #expect(n.handle(.reloadStarted(nowMono: 5_000_000_000, reloadFailures: 0)) == ["RELOADING=1\nMONOTONIC_USEC=5000000"])
        // A state change that is no failure leaves the reload running.
        #expect(n.handle(.reloadFailuresNow(0)) == [])
        #expect(n.handle(.serving) == ["READY=1"])
        #expect(n.handle(.stopping) == ["STOPPING=1"])
        #expect(n.handle(.stopping) == [])
        #expect(n.handle(.serving) == [])
        #expect(n.handle(.reloadStarted(nowMono: 6, reloadFailures: 0)) == [])
    }

    @Test func aRefusedReloadEndsWithReady() throws {
        var n = try #require(notifier())
        _ = n.handle(.serving)
        #expect(n.handle(.reloadStarted(nowMono: 1000, reloadFailures: 2)) == ["RELOADING=1\nMONOTONIC_USEC=1"])
        #expect(n.handle(.reloadFailuresNow(3)) == ["READY=1"])
        #expect(n.reloadingSince == nil)
        #expect(n.handle(.reloadFailuresNow(3)) == [])
    }

    @Test func aReexecutedImageAnnouncesItselfReady() throws {
        // The new image of a reload starts with a fresh notifier: its first READY=1 ends the reload.
        var n = try #require(notifier())
        #expect(!n.announcedReady)
        #expect(n.handle(.serving) == ["READY=1"])
    }

    @Test func watchdogEveryHalfOfWatchdogUsec() throws {
        var n = try #require(notifier(["NOTIFY_SOCKET": "/n", "WATCHDOG_USEC": "2000000"], interval: 0))
        #expect(n.watchdogInterval == second)
        #expect(n.handle(.tick(nowMono: 0, figures: nil)) == ["WATCHDOG=1"])
        #expect(n.wakeMillis(nowMono: 0) == 1000)
        #expect(n.handle(.tick(nowMono: second / 2, figures: nil)) == [])
        #expect(n.wakeMillis(nowMono: second / 2) == 500)
        #expect(n.handle(.tick(nowMono: second, figures: nil)) == ["WATCHDOG=1"])
    }

    @Test func watchdogForAnotherPidIsNotOurs() throws {
        let n = try #require(notifier(["NOTIFY_SOCKET": "/n", "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "99"]))
        #expect(n.watchdogInterval == nil)
        let ours = try #require(notifier(["NOTIFY_SOCKET": "/n", "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "100"]))
        #expect(ours.watchdogInterval == second)
    }

    @Test func statusLineEverySystemdIntervalOnceReady() throws {
        var n = try #require(notifier(interval: 2))
        let figures = SystemdNotifier.StatusFigures(active: 1, idle: 3, requests: 10, slow: 1)
        #expect(!n.statusDue(nowMono: 2 * second))
        _ = n.handle(.serving)
        #expect(!n.statusDue(nowMono: second))
        #expect(n.statusDue(nowMono: 2 * second))
        #expect(n.handle(.tick(nowMono: 2 * second, figures: figures))
            == ["STATUS=Processes active: 1, idle: 3, Requests: 10, slow: 1, Traffic: 0req/sec"])
        var later = figures
        later.requests = 15
        #expect(n.handle(.tick(nowMono: 3 * second, figures: later)) == [])
        #expect(n.handle(.tick(nowMono: 4 * second, figures: later))
            == ["STATUS=Processes active: 1, idle: 3, Requests: 15, slow: 1, Traffic: 2.5req/sec"])
        later.draining = true
        #expect(SystemdNotifier.statusLine(later, requestsPerSecond: 0)
            == "Draining (readiness off); Processes active: 1, idle: 3, Requests: 15, slow: 1, Traffic: 0req/sec")
    }

    @Test func intervalZeroSendsNoStatus() throws {
        let n = try #require(notifier(interval: 0))
        #expect(n.statusInterval == nil)
        #expect(n.wakeMillis(nowMono: 0) == nil)
    }

    @Test func requestRateHasThreeSignificantDigits() {
        #expect(SystemdNotifier.threeSignificant(0) == "0")
        #expect(SystemdNotifier.threeSignificant(2.5) == "2.5")
        #expect(SystemdNotifier.threeSignificant(0.1234) == "0.123")
        #expect(SystemdNotifier.threeSignificant(12.34) == "12.3")
        #expect(SystemdNotifier.threeSignificant(123.4) == "123")
        #expect(SystemdNotifier.threeSignificant(1) == "1")
    }
}
