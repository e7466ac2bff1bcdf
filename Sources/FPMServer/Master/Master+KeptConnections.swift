import FPMConfiguration
import FPMStatus
import FPMSystem

/// The I/O behind `KeptConnectionRegistry`: reading workers' reports, watching the duplicates
/// for a hang-up only (EPOLLRDHUP without EPOLLIN: no wake-up per request), and, when a worker
/// ends, closing the connection it was serving and re-offering its idle ones to the pool's
/// hand-off socket, where an idle sibling adopts them (static and dynamic pools replace a dead
/// worker; an ondemand pool's are re-offered only while a sibling is alive).
///
/// Scope: Swift workers of pools with a hand-off socket (an `exec` program has no control
/// channel and reports nothing). Duplicates do not cross a reload's exec (they are
/// close-on-exec): an inherited worker's connections are registered again by whoever adopts
/// them when it quits, and its own are only closed if it is killed.
extension Master {
    /// Reads `channel`'s reports from now on (idempotent). The channel is the master's from
    /// here (an inherited one too): registered, so a worker forked later closes it.
    func watchReports(_ channel: Int32, pid: Int32) {
        guard reportChannels[channel] == nil else { return }
        DescriptorRegistry.register(channel)
        do {
            try epoll.add(channel, events: Epoll.input, data: Wakeup.workerReports(fd: channel).tag)
            reportChannels[channel] = pid
        } catch {
            log.warning("child \(pid): \(error); its kept connections are not protected against its hard kill")
        }
    }

    /// Applies every report waiting on `channel`.
    func readReports(_ channel: Int32) {
        guard let owner = reportChannels[channel], let child = control.children[owner] else {
            epoll.remove(channel)
            return
        }
        for _ in 0..<1024 {
            switch WorkerReport.receive(from: channel) {
            case .none:
                return
            case .closed:
                // The worker is gone; its exit (reaped next) settles its connections.
                epoll.remove(channel)
                return
            case .report(.kept(let workerFD, let peer, let connection)):
                DescriptorRegistry.register(connection)
                heldDescriptors.adopt(connection)
                apply(keptConnections.kept(owner: owner, workerFD: workerFD, connection: connection, peer: peer, pool: child.pool))
            case .report(.handedOn(let workerFD)):
                apply(keptConnections.handedOn(owner: owner, workerFD: workerFD))
            }
        }
    }

    func keptConnectionHungUp(_ fd: Int32) {
        apply(keptConnections.hungUp(fd))
    }

    /// A reaped worker: its remaining reports first, then its connections — the one its slot
    /// says it was serving ends with it, the idle ones go back to the pool.
    func keptConnectionsOfEndedWorker(_ pid: Int32) {
        guard let child = control.children[pid], let channel = child.control else { return }
        if reportChannels[channel] != nil { readReports(channel) }
        let pool = pools.first(where: { $0.name == child.pool })
        var serving: Int32? = nil
        var reoffer = false
        if let pool, pool.handoff != nil, let slot = child.slot, child.generation == generation {
            serving = pool.scoreboard.slot(slot).servingConnection
            // An ondemand pool starts workers only for its listener: with no sibling left, an
            // offered connection could wait in the hand-off socket with nginx's request in it.
            // The same in a stop: no worker adopts anything any more, and a connection left in
            // the hand-off socket stays open (unanswered: HAProxy waited its `timeout server`
            // for requests it sent on one) until the master exits. Closed, the web server
            // sends the request again elsewhere.
            reoffer = control.phase.isServing
                && (pool.settings.style != .ondemand || control.current(in: pool.name).contains { $0.pid != pid })
        }
        let commands = keptConnections.workerEnded(owner: pid, serving: serving, reoffer: reoffer)
        var offered = 0
        for command in commands { if case .reoffer = command { offered += 1 } }
        apply(commands)
        if offered > 0 { log.notice("[pool \(child.pool)] child \(pid): offered its \(offered) idle kept connection(s) to the pool") }
    }

    func apply(_ commands: [KeptConnectionRegistry.Command]) {
        for command in commands {
            switch command {
            case .watch(let fd):
                do {
                    try epoll.add(fd, events: Epoll.peerClosed, data: Wakeup.keptConnection(fd: fd).tag)
                } catch {
                    _ = keptConnections.hungUp(fd)
                    heldDescriptors.close(fd)
                }
            case .close(let fd):
                // Out of the epoll first: the worker's copy keeps the description (and so an
                // epoll entry keyed on it) alive after this descriptor is closed.
                epoll.remove(fd)
                heldDescriptors.close(fd)
            case .shutDown(let fd):
                KeptConnection.shutdown(fd)
                epoll.remove(fd)
                heldDescriptors.close(fd)
            case .reoffer(let fd, let peer, let poolName):
                epoll.remove(fd)
                if !KeptConnection.isHungUp(fd), let handoff = pools.first(where: { $0.name == poolName })?.handoff {
                    _ = HandoffMessage(connection: fd, peer: peer).send(over: handoff.write)
                }
                heldDescriptors.close(fd)
            case .refuse(let fd):
                heldDescriptors.close(fd)
                if keptConnections.refusals == 1 {
                    log.warning("more than \(keptConnections.capacity) kept connections: further ones are not protected against their worker's hard kill (the master's descriptors, RLIMIT_NOFILE)")
                }
            }
        }
    }
}
