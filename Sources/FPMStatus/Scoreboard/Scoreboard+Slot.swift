import FPMSystem
import Atomics

/// A worker's own slot of its pool's scoreboard: the writer side (seqlock stores).
extension Scoreboard {
    /// A writer's handle on one slot. Only the slot's owner may use it.
    package struct Slot: @unchecked Sendable {
        package let index: Int
        let base: UnsafeMutableRawPointer

        @inline(__always) func int(_ o: Int) -> Int { base.load(fromByteOffset: o, as: Int.self) }
        @inline(__always) func set(_ o: Int, _ v: Int) { base.storeBytes(of: v, toByteOffset: o, as: Int.self) }
        @inline(__always) var seq: UnsafeAtomic<Int> {
            UnsafeAtomic<Int>(at: (base + S.seq).assumingMemoryBound(to: UnsafeAtomic<Int>.Storage.self))
        }
        @inline(__always) var stageAtomic: UnsafeAtomic<Int> {
            UnsafeAtomic<Int>(at: (base + S.stage).assumingMemoryBound(to: UnsafeAtomic<Int>.Storage.self))
        }

        package var pid: Int32 { Int32(truncatingIfNeeded: int(S.pid)) }
        /// When the worker entered its current stage (monotonic ns): an idle one's last activity.
        package var stageStartedMono: Int { int(S.stageMono) }
        package var stage: RequestStage { RequestStage(rawValue: stageAtomic.load(ordering: .acquiring)) ?? .free }

        /// Brackets a multi-field update so readers retry instead of seeing it half done.
        @inline(__always) package func update(_ body: () -> Void) {
            seq.wrappingIncrement(ordering: .acquiringAndReleasing)
            body()
            seq.wrappingIncrement(ordering: .releasing)
        }

        @inline(__always) func setStage(_ s: RequestStage, now: Int) {
            set(S.stageMono, now)
            stageAtomic.store(s.rawValue, ordering: .releasing)
        }

        /// For the master, which writes a slot only when no worker does (before fork, after
        /// reaping): forces the counter odd, then even, whatever a worker that died in the middle
        /// of an update left in it.
        func masterUpdate(_ body: () -> Void) {
            let odd = seq.load(ordering: .acquiring) | 1
            seq.store(odd, ordering: .releasing)
            body()
            seq.store(odd &+ 1, ordering: .releasing)
        }

        /// Master, before fork: claims the slot for a new worker.
        package func claim(pid: Int32, generation: Int) {
            masterUpdate {
                // Everything, the strings too: a new worker's slot shows nothing of its
                // predecessor's last request (method, URI, script) in `?full`.
                (base + S.pid).initializeMemory(as: UInt8.self, repeating: 0, count: Scoreboard.slotSize - S.pid)
                set(S.pid, Int(pid))
                set(S.startEpoch, SystemClock.epochSeconds())
                set(S.generation, generation)
                set(S.stageMono, SystemClock.monotonicNanos())
                stageAtomic.store(RequestStage.idle.rawValue, ordering: .releasing)
            }
        }

        /// Master, after reaping: frees the slot.
        package func release() {
            masterUpdate {
                set(S.pid, 0)
                stageAtomic.store(RequestStage.free.rawValue, ordering: .releasing)
            }
        }

        /// Master, for an exec'd program, which never writes its slot: the stage the master
        /// sampled (``Processes/isBlockedInAccept(_:)``). Becoming busy starts the request's
        /// clock at the sample; becoming idle records the time it was seen busy as the last
        /// request's duration. Sampled, so requests shorter than the sampling interval are missed.
        package func observe(busy: Bool, now: Int) {
            let current = stage
            if busy && current == .idle {
                masterUpdate {
                    set(S.acceptedMono, now)
                    set(S.durationMicros, 0)
                    setStage(.running, now: now)
                }
            } else if !busy && current != .idle && current != .free {
                masterUpdate {
                    set(S.durationMicros, max(0, (now - int(S.acceptedMono)) / 1000))
                    setStage(.idle, now: now)
                }
            }
        }

        /// Master, right after fork: the pid is one aligned word, so a plain store is atomic
        /// for readers, and the new worker may already be updating the slot's other fields.
        package func setPID(_ pid: Int32) { set(S.pid, Int(pid)) }

        /// Worker: waiting for a connection or a request on a kept one.
        @inline(__always) package func markIdle(now: Int) { setStage(.idle, now: now) }

        /// Worker: a new connection was accepted and its first bytes are awaited: "Reading
        /// headers" (with the wait's start, so request_terminate_timeout measures it), not
        /// "Idle", and not yet counted as a request.
        package func awaitRequest(now: Int) {
            update {
                set(S.acceptedMono, now)
                base.storeBytes(of: UInt8(0), toByteOffset: S.method, as: UInt8.self)
                base.storeBytes(of: UInt8(0), toByteOffset: S.uri, as: UInt8.self)
                base.storeBytes(of: UInt8(0), toByteOffset: S.query, as: UInt8.self)
                base.storeBytes(of: UInt8(0), toByteOffset: S.script, as: UInt8.self)
                base.storeBytes(of: UInt8(0), toByteOffset: S.requestID, as: UInt8.self)
                base.storeBytes(of: UInt8(0), toByteOffset: S.traceID, as: UInt8.self)
                setStage(.readingHeaders, now: now)
            }
        }

        /// Worker: the first bytes of a request arrived.
        @inline(__always) package func beginRequest(now: Int, epochMicros: Int) {
            update {
                set(S.requests, int(S.requests) &+ 1)
                set(S.acceptedMono, now)
                set(S.acceptedEpochMicros, epochMicros)
                set(S.contentLength, 0)
                set(S.durationMicros, 0)
                set(S.cpuUser, 0)
                set(S.cpuSystem, 0)
                base.storeBytes(of: UInt8(0), toByteOffset: S.method, as: UInt8.self)
                base.storeBytes(of: UInt8(0), toByteOffset: S.user, as: UInt8.self)
                base.storeBytes(of: UInt8(0), toByteOffset: S.uri, as: UInt8.self)
                base.storeBytes(of: UInt8(0), toByteOffset: S.query, as: UInt8.self)
                base.storeBytes(of: UInt8(0), toByteOffset: S.script, as: UInt8.self)
                base.storeBytes(of: UInt8(0), toByteOffset: S.requestID, as: UInt8.self)
                base.storeBytes(of: UInt8(0), toByteOffset: S.traceID, as: UInt8.self)
                setStage(.readingHeaders, now: now)
            }
        }

        /// Worker: the request's id and trace id, for the status page and the slowlog.
        package func setIdentity(requestID: UnsafeRawBufferPointer, traceID: UnsafeRawBufferPointer) {
            update {
                copyField(requestID, S.requestID, S.requestIDSize)
                copyField(traceID, S.traceID, S.traceIDSize)
            }
        }

        /// Worker: params are in; records what the request is and marks it running.
        package func requestInfo(method: UnsafeRawBufferPointer?, uri: UnsafeRawBufferPointer?,
                                query: UnsafeRawBufferPointer?, script: UnsafeRawBufferPointer?,
                                user: UnsafeRawBufferPointer?, contentLength: Int, now: Int) {
            update {
                copyField(method, S.method, S.methodSize)
                copyField(uri, S.uri, S.uriSize)
                copyField(query, S.query, S.querySize)
                copyField(script, S.script, S.scriptSize)
                copyField(user, S.user, S.userSize)
                set(S.contentLength, contentLength)
                setStage(.running, now: now)
            }
        }

        /// Worker: the response is written; records the request's cost.
        package func endRequest(now: Int, cpuUserMicros: Int, cpuSystemMicros: Int, memory: Int) {
            update {
                set(S.durationMicros, (now - int(S.acceptedMono)) / 1000)
                set(S.cpuUser, cpuUserMicros)
                set(S.cpuSystem, cpuSystemMicros)
                set(S.memory, memory)
                setStage(.finishing, now: now)
            }
            recordDuration(micros: int(S.durationMicros))
        }

        /// Adds one request to the pool's duration histogram in the header (shared by every
        /// worker of the pool, hence atomic): two relaxed atomic adds, no syscall.
        @inline(__always) func recordDuration(micros: Int) {
            let header = base - Scoreboard.headerSize - index * Scoreboard.slotSize
            let bucket = Scoreboard.bucket(forMicros: micros)
            UnsafeAtomic<Int>(at: (header + H.histogram + 8 * bucket).assumingMemoryBound(to: UnsafeAtomic<Int>.Storage.self))
                .wrappingIncrement(ordering: .relaxed)
            UnsafeAtomic<Int>(at: (header + H.histogramSum).assumingMemoryBound(to: UnsafeAtomic<Int>.Storage.self))
                .wrappingIncrement(by: max(0, micros), ordering: .relaxed)
        }

        @inline(__always) func copyField(_ src: UnsafeRawBufferPointer?, _ offset: Int, _ size: Int) {
            let n = min(src?.count ?? 0, size - 1)
            if n > 0, let s = src?.baseAddress { (base + offset).copyMemory(from: s, byteCount: n) }
            base.storeBytes(of: UInt8(0), toByteOffset: offset + n, as: UInt8.self)
        }

        package var flags: Int { get { int(S.flags) } nonmutating set { update { set(S.flags, newValue) } } }

        /// Worker: the connection it reads or answers from its first byte on (nil once parked
        /// or closed). A plain store, no seqlock: only the master reads it, after the worker
        /// died, to tell the connection that dies with it from the idle ones it re-offers.
        package var servingConnection: Int32? {
            get { let v = int(S.connection); return v > 0 ? Int32(truncatingIfNeeded: v - 1) : nil }
            nonmutating set { set(S.connection, newValue.map { Int($0) + 1 } ?? 0) }
        }
    }
}
