import FPMSystem
import Glibc
import Atomics

/// A worker's request stage, php-fpm's names and order.
package enum RequestStage: Int, Sendable, CaseIterable {
    case free = 0
    case idle = 1
    case readingHeaders = 2
    case gettingInfo = 3
    case running = 4
    case ending = 5
    case finishing = 6

    /// php-fpm's status-page name.
    package var displayName: String {
        switch self {
        case .free: return "Free"
        case .idle: return "Idle"
        case .readingHeaders: return "Reading headers"
        case .gettingInfo: return "Getting request information"
        case .running: return "Running"
        case .ending: return "Ending"
        case .finishing: return "Finishing"
        }
    }
}

/// One pool's shared-memory scoreboard: a header of pool counters and one fixed-size slot per
/// worker. Plain data only (fixed-width fields, NUL-padded strings), so any process that maps
/// the file can read it. Each slot has one writer at a time — the worker owning it, or the
/// master before fork and after reaping — and a sequence counter that lets readers retry
/// instead of seeing a half-written request.
package final class Scoreboard: @unchecked Sendable {
    package static let magic: UInt64 = 0x3142_5350_4654_5753  // "SWTFPSB1" little-endian
    /// 2: the header grew to 1024 bytes for job pools' figures (`Scoreboard+Jobs.swift`).
    package static let version: UInt32 = 2
    package static let headerSize = 1024
    package static let slotSize = 1536
    /// Slot flag: the worker finished its setup and waits for requests (reload hand-over).
    package static let readyFlag = 1
    /// Slot flag: the worker's private memory passed pm.max_memory; it serves on until the
    /// master has started its replacement and asks it to quit.
    package static let replaceMeFlag = 2

    enum H {
        static let magic = 0, version = 8, slotSize = 12, slotCount = 16, pm = 20
        static let startEpoch = 24, masterPID = 32, generation = 40
        static let acceptedConn = 48, maxActive = 56, maxChildrenReached = 64, slowRequests = 72
        static let listenQueue = 80, maxListenQueue = 88, listenQueueLen = 96, maxChildren = 104
        static let idle = 112, active = 120
        static let poolName = 128, poolNameSize = 64
        static let listen = 192, listenSize = 128
        static let memoryReplacements = 320
        /// The master's loop stamps this (monotonic ns) on every pass, so a reader can tell a
        /// running master from a stalled one.
        static let masterHeartbeat = 328
        /// The pool's limits (`Scoreboard.Limits`), written once at creation.
        static let startServers = 336, minSpareServers = 344, maxSpareServers = 352, maxRequests = 360
        static let terminateTimeout = 368, processIdleTimeout = 376
        /// The request-duration histogram: one (non-cumulative) count per bucket of
        /// `Scoreboard.durationBucketsMicros` plus +Inf, then the sum of durations in microseconds.
        static let histogram = 384, histogramSum = 384 + 8 * (Scoreboard.durationBucketsMicros.count + 1)
        /// `MasterReadiness` (0 ready): the header's last word, which `create` zeroes, so the
        /// layout version is unchanged and an older master's board reads as ready.
        static let masterReadiness = 504
        /// Requests the master answered 503 itself (pm.max_queue_wait, or no worker); one writer.
        static let rejectedRequests = histogramSum + 8
        /// Job pools (`Scoreboard+Jobs.swift`): 1 for a job pool; jobs completed and failed
        /// (workers add); exec workers restarted, gearmand's backlog and its peak, and the
        /// connection state (the master writes).
        static let isJobPool = 512, jobsDone = 520, jobsFailed = 528, restarts = 536
        static let backlog = 544, maxBacklog = 552, gearmanState = 560
    }

    /// Upper bounds of the request-duration histogram's buckets, in microseconds (Prometheus'
    /// default buckets, 5 ms to 10 s); the last bucket, +Inf, is implicit.
    package static let durationBucketsMicros: [Int] = [
        5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000,
    ]

    /// The pool's limits as the status page's metrics show them.
    package struct Limits: Sendable, Equatable {
        package var startServers = 0, minSpareServers = 0, maxSpareServers = 0, maxRequests = 0
        /// `request_terminate_timeout`, seconds (0: none).
        package var terminateTimeout = 0
        /// `pm.process_idle_timeout`, seconds.
        package var processIdleTimeout = 0
        package init(startServers: Int = 0, minSpareServers: Int = 0, maxSpareServers: Int = 0, maxRequests: Int = 0,
                     terminateTimeout: Int = 0, processIdleTimeout: Int = 0) {
            self.startServers = startServers
            self.minSpareServers = minSpareServers
            self.maxSpareServers = maxSpareServers
            self.maxRequests = maxRequests
            self.terminateTimeout = terminateTimeout
            self.processIdleTimeout = processIdleTimeout
        }
    }

    /// A consistent-enough copy of the duration histogram: per-bucket counts (not cumulative,
    /// the last one +Inf) and the sum of the durations in microseconds.
    package struct DurationHistogram: Sendable, Equatable {
        package var counts: [Int]
        package var sumMicros: Int
        package var count: Int { counts.reduce(0, &+) }
        package init(counts: [Int], sumMicros: Int) {
            self.counts = counts
            self.sumMicros = sumMicros
        }
    }

    enum S {
        static let seq = 0, pid = 8, stage = 16, startEpoch = 24, requests = 32
        static let acceptedEpochMicros = 40, acceptedMono = 48, stageMono = 56
        static let contentLength = 64, durationMicros = 72, cpuUser = 80, cpuSystem = 88, memory = 96
        static let flags = 104, generation = 112
        /// The connection the worker is reading or answering (its descriptor + 1; 0: none).
        static let connection = 120
        static let method = 128, methodSize = 16
        static let user = 144, userSize = 32
        static let uri = 176, uriSize = 256
        static let query = 432, querySize = 512
        static let script = 944, scriptSize = 256
        /// The request's id and trace id (`RequestIdentity`), when the pool records them.
        /// Added in bytes the slot had free and `claim` zeroes, so the layout version is unchanged:
        /// an older reader ignores them, a newer one reads an older slot's as empty.
        static let requestID = 1200, requestIDSize = 136
        static let traceID = 1336, traceIDSize = 40
    }

    package let memory: SharedMemory
    package let slotCount: Int

    package static func size(slots: Int) -> Int { headerSize + slots * slotSize }

    /// Byte offsets in the file of the pool's request counter ("accepted conn") and of slot
    /// `slot`'s: what the exec counter library (preload/exec_counter.c) adds to.
    package static let acceptedConnectionsOffset = H.acceptedConn
    package static func requestsOffset(slot: Int) -> Int { headerSize + slot * slotSize + S.requests }

    /// Where the scoreboard of `pool` of the master `pid` lives, so `fpmctl` can find it.
    package static func path(directory: String, masterPID: Int32, pool: String) -> String {
        let safe = String(pool.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
        return "\(directory)/swift-fpm.\(masterPID).\(safe).scoreboard"
    }

    /// Creates a new scoreboard file.
    /// `slots` may exceed `maxChildren` (by one, under pm.max_memory) so a replacement can start
    /// before the worker it replaces leaves.
    package init(create path: String, pool: String, listen: String, pm: Int, slots: Int, maxChildren: Int? = nil,
                 limits: Limits = Limits(), masterPID: Int32, generation: Int, group: gid_t? = nil) throws(SystemError) {
        // 0640: a scoreboard holds live URIs and query strings; only the master's user and the
        // status group read it.
        memory = try SharedMemory.create(path: path, size: Scoreboard.size(slots: slots), mode: 0o640, group: group)
        slotCount = slots
        store(UInt64(Scoreboard.magic), at: H.magic)
        store(UInt32(Scoreboard.version), at: H.version)
        store(UInt32(Scoreboard.slotSize), at: H.slotSize)
        store(UInt32(slots), at: H.slotCount)
        store(UInt32(pm), at: H.pm)
        storeInt(SystemClock.epochSeconds(), at: H.startEpoch)
        storeInt(Int(masterPID), at: H.masterPID)
        storeInt(generation, at: H.generation)
        storeInt(maxChildren ?? slots, at: H.maxChildren)
        storeInt(limits.startServers, at: H.startServers)
        storeInt(limits.minSpareServers, at: H.minSpareServers)
        storeInt(limits.maxSpareServers, at: H.maxSpareServers)
        storeInt(limits.maxRequests, at: H.maxRequests)
        storeInt(limits.terminateTimeout, at: H.terminateTimeout)
        storeInt(limits.processIdleTimeout, at: H.processIdleTimeout)
        storeInt(SystemClock.monotonicNanos(), at: H.masterHeartbeat)
        writeString(pool, at: H.poolName, size: H.poolNameSize, base: memory.base)
        writeString(listen, at: H.listen, size: H.listenSize, base: memory.base)
    }

    package enum OpenError: Error, CustomStringConvertible {
        case system(SystemError)
        case notAScoreboard(String)
        package var description: String {
            switch self {
            case .system(let e): return e.description
            case .notAScoreboard(let p): return "\(p) is not a swift-fpm scoreboard (or of another version)"
            }
        }
    }

    /// Maps an existing scoreboard file (read-only by default) and checks its header.
    package init(open path: String, writable: Bool = false) throws(OpenError) {
        do {
            memory = try SharedMemory.open(path: path, writable: writable)
        } catch {
            throw .system(error)
        }
        guard memory.size >= Scoreboard.headerSize,
              memory.base.loadUnaligned(fromByteOffset: H.magic, as: UInt64.self) == Scoreboard.magic,
              memory.base.loadUnaligned(fromByteOffset: H.version, as: UInt32.self) == Scoreboard.version,
              memory.base.loadUnaligned(fromByteOffset: H.slotSize, as: UInt32.self) == UInt32(Scoreboard.slotSize)
        else {
            memory.unmap()
            throw .notAScoreboard(path)
        }
        let count = Int(memory.base.loadUnaligned(fromByteOffset: H.slotCount, as: UInt32.self))
        slotCount = min(count, (memory.size - Scoreboard.headerSize) / Scoreboard.slotSize)
    }

    // MARK: raw access

    @inline(__always) private func store<T>(_ v: T, at offset: Int) {
        memory.base.storeBytes(of: v, toByteOffset: offset, as: T.self)
    }
    @inline(__always) func storeInt(_ v: Int, at offset: Int) {
        memory.base.storeBytes(of: v, toByteOffset: offset, as: Int.self)
    }
    @inline(__always) func loadInt(_ offset: Int) -> Int {
        memory.base.load(fromByteOffset: offset, as: Int.self)
    }
    @inline(__always) func atomic(_ offset: Int) -> UnsafeAtomic<Int> {
        UnsafeAtomic<Int>(at: (memory.base + offset).assumingMemoryBound(to: UnsafeAtomic<Int>.Storage.self))
    }

    // MARK: header

    package var poolName: String { readString(at: H.poolName, size: H.poolNameSize, base: memory.base) }
    package var listenAddress: String { readString(at: H.listen, size: H.listenSize, base: memory.base) }
    package var processManager: Int { Int(memory.base.load(fromByteOffset: H.pm, as: UInt32.self)) }
    package var masterPID: Int { loadInt(H.masterPID) }
    package var generation: Int { loadInt(H.generation) }

    package var startEpoch: Int {
        get { loadInt(H.startEpoch) }
        set { storeInt(newValue, at: H.startEpoch) }
    }

    /// Requests read by this pool's workers (php-fpm's "accepted conn"); workers add to it.
    package var acceptedConnections: Int {
        get { atomic(H.acceptedConn).load(ordering: .relaxed) }
        set { atomic(H.acceptedConn).store(newValue, ordering: .relaxed) }
    }
    package func countAcceptedConnection() {
        atomic(H.acceptedConn).wrappingIncrement(ordering: .relaxed)
    }

    package var slowRequests: Int {
        get { atomic(H.slowRequests).load(ordering: .relaxed) }
        set { atomic(H.slowRequests).store(newValue, ordering: .relaxed) }
    }
    package func countSlowRequest() { atomic(H.slowRequests).wrappingIncrement(ordering: .relaxed) }

    /// Master-maintained figures (one writer: the master's maintenance tick).
    package var maxActive: Int { get { loadInt(H.maxActive) } set { storeInt(newValue, at: H.maxActive) } }
    package var maxChildrenReached: Int {
        get { loadInt(H.maxChildrenReached) } set { storeInt(newValue, at: H.maxChildrenReached) }
    }
    package var listenQueue: Int { get { loadInt(H.listenQueue) } set { storeInt(newValue, at: H.listenQueue) } }
    package var maxListenQueue: Int {
        get { loadInt(H.maxListenQueue) } set { storeInt(newValue, at: H.maxListenQueue) }
    }
    package var listenQueueLength: Int {
        get { loadInt(H.listenQueueLen) } set { storeInt(newValue, at: H.listenQueueLen) }
    }
    package var maxChildren: Int { loadInt(H.maxChildren) }
    /// The master's last count of idle and of active workers (its maintenance tick).
    package var idleWorkers: Int { get { loadInt(H.idle) } set { storeInt(newValue, at: H.idle) } }
    package var activeWorkers: Int { get { loadInt(H.active) } set { storeInt(newValue, at: H.active) } }
    /// Workers replaced because they passed pm.max_memory.
    package var memoryReplacements: Int {
        get { loadInt(H.memoryReplacements) } set { storeInt(newValue, at: H.memoryReplacements) }
    }

    /// Requests the master answered `503` itself: waited `pm.max_queue_wait`, or the pool had
    /// no worker (`AdmissionQueue`).
    package var rejectedRequests: Int {
        get { loadInt(H.rejectedRequests) } set { storeInt(newValue, at: H.rejectedRequests) }
    }

    package var limits: Limits {
        Limits(startServers: loadInt(H.startServers), minSpareServers: loadInt(H.minSpareServers),
               maxSpareServers: loadInt(H.maxSpareServers), maxRequests: loadInt(H.maxRequests),
               terminateTimeout: loadInt(H.terminateTimeout), processIdleTimeout: loadInt(H.processIdleTimeout))
    }

    /// When the master's loop last ran (monotonic ns; one writer, the master).
    package var masterHeartbeat: Int {
        get { loadInt(H.masterHeartbeat) } set { storeInt(newValue, at: H.masterHeartbeat) }
    }

    /// Whether the master asks for new work (one writer, the master; read by the workers' ping
    /// page and `fpmctl health`).
    package var masterReadiness: MasterReadiness {
        get { MasterReadiness(rawValue: loadInt(H.masterReadiness)) ?? .ready }
        set { storeInt(newValue.rawValue, at: H.masterReadiness) }
    }

    /// The request-duration histogram the workers add to at each request's end.
    package var durationHistogram: DurationHistogram {
        get {
            let counts = (0...Scoreboard.durationBucketsMicros.count).map { atomic(H.histogram + 8 * $0).load(ordering: .relaxed) }
            return DurationHistogram(counts: counts, sumMicros: atomic(H.histogramSum).load(ordering: .relaxed))
        }
        set {
            for (i, c) in newValue.counts.prefix(Scoreboard.durationBucketsMicros.count + 1).enumerated() {
                atomic(H.histogram + 8 * i).store(c, ordering: .relaxed)
            }
            atomic(H.histogramSum).store(newValue.sumMicros, ordering: .relaxed)
        }
    }

    /// The bucket a duration falls in (the last index is +Inf).
    @inline(__always) static func bucket(forMicros micros: Int) -> Int {
        var i = 0
        while i < durationBucketsMicros.count && micros > durationBucketsMicros[i] { i += 1 }
        return i
    }

    package func slot(_ index: Int) -> Slot {
        precondition(index >= 0 && index < slotCount)
        return Slot(index: index, base: memory.base + Scoreboard.headerSize + index * Scoreboard.slotSize)
    }

    /// The stage of a slot without copying it (the master's per-tick count).
    package func stage(_ index: Int) -> RequestStage { slot(index).stage }
}

func writeString(_ s: String, at offset: Int, size: Int, base: UnsafeMutableRawPointer) {
    var bytes = Array(s.utf8.prefix(size - 1))
    bytes.append(0)
    bytes.withUnsafeBytes { (base + offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
}

func readString(at offset: Int, size: Int, base: UnsafeRawPointer) -> String {
    let p = (base + offset).assumingMemoryBound(to: UInt8.self)
    var n = 0
    while n < size && p[n] != 0 { n += 1 }
    return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
}
