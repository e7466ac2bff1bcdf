import FPMStatus
import FPMSystem

/// The master's side of `SystemdNotifier`: it feeds the notifier the master's events and sends
/// what it answers to NOTIFY_SOCKET. Without NOTIFY_SOCKET none of this runs.
extension Master {
    /// Sends the notifier's answer to `event`; a failed send is logged once per reason at debug
    /// (systemd may be gone; the service must not care).
    func notifySystemd(_ event: SystemdNotifier.Event) {
        guard var notifier = systemd else { return }
        let messages = notifier.handle(event)
        systemd = notifier
        for message in messages {
            do {
                try NotifySocket.send(message, to: notifier.socket)
                log.debug("sd_notify: \(message.split(separator: "\n").joined(separator: " "))")
            } catch {
                log.debug("sd_notify to \(notifier.socket) failed: \(error)")
            }
        }
    }

    /// After every state change (`writeState`): STOPPING=1 on the way out; READY=1 when a
    /// reload that started was abandoned (invalid configuration, failed exec).
    func systemdStateChanged() {
        guard systemd != nil else { return }
        switch control.phase {
        case .finishing, .terminating: notifySystemd(.stopping)
        default: notifySystemd(.reloadFailuresNow(control.reload.failures))
        }
    }

    /// Once per loop turn: READY=1 as soon as the serving generation is ready, WATCHDOG=1 and
    /// STATUS= when due.
    func systemdTick(now: Int) {
        guard let notifier = systemd else { return }
        if control.phase == .running && (!notifier.announcedReady || notifier.reloadingSince != nil) && newGenerationIsReady() {
            notifySystemd(.serving)
        }
        notifySystemd(.tick(nowMono: now, figures: notifier.statusDue(nowMono: now) ? systemdFigures() : nil))
    }

    /// How long the loop may wait before the notifier has something due: short while READY=1
    /// waits for the first workers, else the watchdog's or the status line's next time.
    func systemdWakeMillis(now: Int) -> Int32? {
        guard let notifier = systemd else { return nil }
        let waiting: Int32? = !notifier.announcedReady && control.phase == .running ? Master.handoverPollMillis : nil
        guard let due = notifier.wakeMillis(nowMono: now) else { return waiting }
        return min(due, waiting ?? due)
    }

    /// The pools' totals for the STATUS= line, from their scoreboards.
    func systemdFigures() -> SystemdNotifier.StatusFigures {
        var figures = SystemdNotifier.StatusFigures(active: 0, idle: 0, requests: 0, slow: 0, draining: control.draining)
        for pool in pools {
            let (status, _) = StatusCollector.collect(pool.scoreboard)
            figures.active += status.activeProcesses
            figures.idle += status.idleProcesses
            figures.requests += status.acceptedConn
            figures.slow += status.slowRequests
        }
        return figures
    }
}
