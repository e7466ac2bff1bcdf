import FPMSystem
import FPMConfiguration
import FPMStatus
import FastCGI

/// A pool as the running master holds it: its configuration, its open listening socket, its
/// scoreboard and what its workers run. Workers inherit it through fork.
final class PoolRuntime {
    let config: PoolConfiguration
    var name: String { config.name }
    /// The listening socket, owned for the image's life; registered (`DescriptorRegistry`): a
    /// worker of another pool closes it. It crosses a reload's exec by number; when `openPools`
    /// fails half-way it gives its pools' sockets up (`giveUpSockets`) before dropping them, so
    /// the fallback re-exec can still pass them on.
    private var listener: OwnedDescriptor?
    var listenFD: Int32 { listener?.rawValue ?? -1 }
    let listenKey: String
    let scoreboard: Scoreboard
    let handler: (any RequestHandler)?
    /// `exec = …`: an external FastCGI program each worker becomes.
    let execArguments: [String]?
    let allowedClients: [PeerAddress]?
    let management: ManagementValues
    let parserLimits: ParserLimits
    /// The access log, owned (a reopen `dup2`s the new file onto the same number); registered.
    /// `accessLog` writes to the same number without owning it.
    private var accessLogFile: OwnedDescriptor?
    var accessLogFD: Int32? { accessLogFile?.rawValue }
    /// The pool's hand-off socket, every worker shares it: idle kept connections travel
    /// through it from a worker that became busy to one that is idle. Registered when set.
    var handoff: HandoffSocket? {
        didSet { if let handoff { DescriptorRegistry.register(handoff.read); DescriptorRegistry.register(handoff.write) } }
    }
    var accessLog: AccessLogWriter?
    let settings: ProcessManagerSettings

    /// Master-side bookkeeping.
    var state = ProcessManagerState()
    var usedSlots: Set<Int> = []
    /// A job pool's backlog queries and readings (`Master+JobPools`); nil for a FastCGI pool.
    var jobs: JobPoolState?

    init(config: PoolConfiguration, listenFD: Int32, listenKey: String, scoreboard: Scoreboard,
         handler: (any RequestHandler)?, accessLogFD: Int32?, accessLog: AccessLogWriter?, log: ErrorLog) {
        self.config = config
        self.listener = listenFD >= 0 ? OwnedDescriptor(owning: listenFD) : nil
        self.listenKey = listenKey
        self.scoreboard = scoreboard
        self.handler = handler
        self.execArguments = config.exec
        accessLogFile = accessLogFD.map { OwnedDescriptor(owning: $0) }
        self.accessLog = accessLog
        // The listener and access log come from `Master+Pools` or a reload's inheritance as
        // bare numbers: registered here, where the master takes them on.
        DescriptorRegistry.register(listenFD)
        if let accessLogFD { DescriptorRegistry.register(accessLogFD) }
        if let entries = config.allowedClients {
            var parsed: [PeerAddress] = []
            for entry in entries {
                if let a = PeerAddress(literal: entry) {
                    parsed.append(a)
                } else {
                    log.warning("[pool \(config.name)] Wrong IP address '\(entry)' in listen.allowed_clients")
                }
            }
            if parsed.isEmpty {
                log.error("[pool \(config.name)] There are no allowed addresses")
            }
            allowedClients = parsed
        } else {
            allowedClients = nil
        }
        if let servers = config.gearmanServers { jobs = JobPoolState(servers: servers) }
        management = ManagementValues(maxConns: config.maxChildren, maxReqs: config.maxChildren)
        parserLimits = ParserLimits()
        let style = config.pm
        settings = ProcessManagerSettings(
            style: style, maxChildren: config.maxChildren, startServers: config.startServers,
            minSpareServers: config.minSpareServers, maxSpareServers: config.maxSpareServers,
            maxSpawnRate: config.maxSpawnRate, processIdleTimeout: config.processIdleTimeout)
    }

    /// The listen key of a job pool, which has no listener (never a socket address).
    static func jobPoolKey(_ name: String) -> String { "gearman:" + name }

    /// A job pool (gearman.servers): Gearman workers, no listener.
    var isJobPool: Bool { config.isJobPool }

    /// A half-opened generation that will not serve: its listener and hand-off socket are left
    /// open for whoever passes them on (a fallback re-exec), not closed with this object.
    /// A stop: the pool has no worker left, so its listener is closed now rather than at the
    /// master's exit — what waits in its backlog is reset and new connections are refused, so a
    /// web server sends them elsewhere at once instead of waiting on a socket no one serves.
    func closeListener() {
        listener.take()?.close()
    }

    func giveUpSockets() {
        _ = listener.take()?.release()
        handoff?.giveUp()
    }

    /// A free scoreboard slot, or nil when max_children workers run.
    func claimSlot() -> Int? {
        for i in 0..<scoreboard.slotCount where !usedSlots.contains(i) {
            usedSlots.insert(i)
            return i
        }
        return nil
    }
}

/// A pool's hand-off socket: workers send on `write` and receive on `read`. One self-connected
/// datagram socket (`LoopbackDatagram`), so both are the same descriptor and the master holds
/// one per pool; a pair inherited from an image that made socketpairs keeps its two. Owns them:
/// closed once, by `close()` or when the last reference goes.
final class HandoffSocket {
    private var readEnd: OwnedDescriptor?
    /// The other end of an inherited pair; nil for one self-connected socket.
    private var writeEnd: OwnedDescriptor?
    let read: Int32
    let write: Int32

    init(read: Int32, write: Int32) {
        self.read = read
        self.write = write
        readEnd = OwnedDescriptor(owning: read)
        writeEnd = write == read ? nil : OwnedDescriptor(owning: write)
    }

    /// A new hand-off socket (one descriptor).
    static func make() throws(SystemError) -> HandoffSocket {
        let fd = try LoopbackDatagram.make()
        return HandoffSocket(read: fd, write: fd)
    }

    /// The descriptors it holds (one, or a pair's two).
    var descriptors: [Int32] { read == write ? [read] : [read, write] }

    /// In a forked worker of its pool: both ends stay open (`DescriptorRegistry.keep`).
    func keepInChild() {
        DescriptorRegistry.keep(read)
        DescriptorRegistry.keep(write)
    }

    func close() {
        readEnd.take()?.close()
        writeEnd.take()?.close()
    }

    /// Leaves the descriptors open and unowned (see `PoolRuntime.giveUpSockets`).
    func giveUp() {
        _ = readEnd.take()?.release()
        _ = writeEnd.take()?.release()
    }
}
