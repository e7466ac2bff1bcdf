import FPMSystem
import Atomics

/// The reader side: consistent copies of slots for status pages, fpmctl and the master.
extension Scoreboard {
    /// A consistent copy of one slot.
    package struct SlotSnapshot: Sendable, Equatable {
        package var index: Int
        package var pid: Int32
        package var stage: RequestStage
        package var generation: Int
        package var startEpoch: Int
        package var requests: Int
        package var acceptedEpochMicros: Int
        package var acceptedMono: Int
        package var stageMono: Int
        package var contentLength: Int
        package var durationMicros: Int
        package var cpuUserMicros: Int
        package var cpuSystemMicros: Int
        package var memory: Int
        package var method: String
        package var user: String
        package var uri: String
        package var query: String
        package var script: String
        /// The request's id and trace id; empty when the pool does not record them.
        package var requestID: String = ""
        package var traceID: String = ""

        /// php-fpm's "request duration": the last request's for an idle worker, else time so far.
        package func requestDurationMicros(now: Int) -> Int {
            switch stage {
            case .idle, .free, .finishing: return durationMicros
            default: return max(0, (now - acceptedMono) / 1000)
            }
        }

        /// Whether the worker is busy with a request (php-fpm's "active").
        package var isActive: Bool { stage != .idle && stage != .free }
    }

    /// Reads a slot under its sequence counter; nil for a free slot.
    package func snapshot(_ index: Int) -> SlotSnapshot? {
        let s = slot(index)
        var copy = [UInt8](repeating: 0, count: Scoreboard.slotSize)
        var consistent = false
        // Bounded: a worker killed in the middle of an update leaves the counter odd until the
        // master reaps it; the caller then sees the slot on its next look.
        for attempt in 0..<200_000 {
            let before = s.seq.load(ordering: .acquiring)
            if before & 1 == 0 {
                copy.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(start: s.base, count: Scoreboard.slotSize)) }
                atomicMemoryFence(ordering: .acquiring)
                if s.seq.load(ordering: .acquiring) == before {
                    consistent = true
                    break
                }
            }
            if attempt % 64 == 63 { Processes.yieldProcessor() }
        }
        guard consistent else { return nil }
        return copy.withUnsafeBytes { raw -> SlotSnapshot? in
            let b = raw.baseAddress!
            func i(_ o: Int) -> Int { b.loadUnaligned(fromByteOffset: o, as: Int.self) }
            let pid = Int32(truncatingIfNeeded: i(S.pid))
            guard pid != 0 else { return nil }
            return SlotSnapshot(
                index: index, pid: pid, stage: RequestStage(rawValue: i(S.stage)) ?? .free,
                generation: i(S.generation), startEpoch: i(S.startEpoch), requests: i(S.requests),
                acceptedEpochMicros: i(S.acceptedEpochMicros), acceptedMono: i(S.acceptedMono),
                stageMono: i(S.stageMono), contentLength: i(S.contentLength),
                durationMicros: i(S.durationMicros), cpuUserMicros: i(S.cpuUser), cpuSystemMicros: i(S.cpuSystem),
                memory: i(S.memory),
                method: readString(at: S.method, size: S.methodSize, base: b),
                user: readString(at: S.user, size: S.userSize, base: b),
                uri: readString(at: S.uri, size: S.uriSize, base: b),
                query: readString(at: S.query, size: S.querySize, base: b),
                script: readString(at: S.script, size: S.scriptSize, base: b),
                requestID: readString(at: S.requestID, size: S.requestIDSize, base: b),
                traceID: readString(at: S.traceID, size: S.traceIDSize, base: b))
        }
    }

    /// Every used slot.
    package func snapshots() -> [SlotSnapshot] {
        (0..<slotCount).compactMap { snapshot($0) }
    }
}
