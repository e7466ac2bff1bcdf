/// What a worker or a client sends the server, typed: built into a `GearmanPacket` to send,
/// read back from one (a server's view, and the tests').
public enum GearmanRequest: Equatable, Sendable {
    // Worker: abilities and the grab loop.
    case canDo(function: String)
    case canDoTimeout(function: String, timeout: Int)
    case cantDo(function: String)
    case resetAbilities
    case preSleep
    case grabJob
    case grabJobUniq
    case grabJobAll
    case allYours
    case setClientID(String)
    // Worker: reports about the job in hand.
    case workStatus(handle: String, numerator: Int, denominator: Int)
    case workComplete(handle: String, result: [UInt8])
    case workFail(handle: String)
    case workException(handle: String, exception: [UInt8])
    case workData(handle: String, data: [UInt8])
    case workWarning(handle: String, data: [UInt8])
    // Client.
    case submit(GearmanSubmission)
    /// SUBMIT_JOB_SCHED: minute, hour, day of month, month and day of week as gearmand reads them.
    case submitScheduled(function: String, unique: String, schedule: [String], payload: [UInt8])
    case submitEpoch(function: String, unique: String, epoch: Int, payload: [UInt8])
    case submitReduce(function: String, unique: String, reducer: String, payload: [UInt8], background: Bool)
    case getStatus(handle: String)
    case getStatusUnique(unique: String)
    case optionReq(String)
    // Either.
    case echoReq([UInt8])

    /// The packet to send.
    public var packet: GearmanPacket {
        let b = Field.bytes
        switch self {
        case .canDo(let f): return GearmanPacket(.request, .canDo, [b(f)])
        case .canDoTimeout(let f, let t): return GearmanPacket(.request, .canDoTimeout, [b(f), b(String(t))])
        case .cantDo(let f): return GearmanPacket(.request, .cantDo, [b(f)])
        case .resetAbilities: return GearmanPacket(.request, .resetAbilities)
        case .preSleep: return GearmanPacket(.request, .preSleep)
        case .grabJob: return GearmanPacket(.request, .grabJob)
        case .grabJobUniq: return GearmanPacket(.request, .grabJobUniq)
        case .grabJobAll: return GearmanPacket(.request, .grabJobAll)
        case .allYours: return GearmanPacket(.request, .allYours)
        case .setClientID(let id): return GearmanPacket(.request, .setClientID, [b(id)])
        case .workStatus(let h, let n, let d): return GearmanPacket(.request, .workStatus, [b(h), b(String(n)), b(String(d))])
        case .workComplete(let h, let r): return GearmanPacket(.request, .workComplete, [b(h), r])
        case .workFail(let h): return GearmanPacket(.request, .workFail, [b(h)])
        case .workException(let h, let e): return GearmanPacket(.request, .workException, [b(h), e])
        case .workData(let h, let d): return GearmanPacket(.request, .workData, [b(h), d])
        case .workWarning(let h, let d): return GearmanPacket(.request, .workWarning, [b(h), d])
        case .submit(let s): return GearmanPacket(.request, s.packetType, [b(s.function), b(s.unique), s.payload])
        case .submitScheduled(let f, let u, let schedule, let p):
            precondition(schedule.count == 5, "SUBMIT_JOB_SCHED takes 5 schedule fields")
            return GearmanPacket(.request, .submitJobSched, [b(f), b(u)] + schedule.map(b) + [p])
        case .submitEpoch(let f, let u, let e, let p): return GearmanPacket(.request, .submitJobEpoch, [b(f), b(u), b(String(e)), p])
        case .submitReduce(let f, let u, let r, let p, let bg):
            return GearmanPacket(.request, bg ? .submitReduceJobBackground : .submitReduceJob, [b(f), b(u), b(r), [], p])
        case .getStatus(let h): return GearmanPacket(.request, .getStatus, [b(h)])
        case .getStatusUnique(let u): return GearmanPacket(.request, .getStatusUnique, [b(u)])
        case .optionReq(let o): return GearmanPacket(.request, .optionReq, [b(o)])
        case .echoReq(let d): return GearmanPacket(.request, .echoReq, [d])
        }
    }

    /// The request a packet holds (`packet.magic` must be `.request`).
    public init(_ packet: GearmanPacket) throws(GearmanError) {
        guard packet.magic == .request else { throw .unexpectedMagic(request: false) }
        let a = packet.arguments
        let t = Field.text
        let type = packet.type
        guard a.count == type.argumentCount else { throw .missingArguments(type, expected: type.argumentCount, found: a.count) }
        switch type {
        case .canDo: self = .canDo(function: t(a[0]))
        case .canDoTimeout: self = .canDoTimeout(function: t(a[0]), timeout: try Field.number(a[1], type, argument: 1))
        case .cantDo: self = .cantDo(function: t(a[0]))
        case .resetAbilities: self = .resetAbilities
        case .preSleep: self = .preSleep
        case .grabJob: self = .grabJob
        case .grabJobUniq: self = .grabJobUniq
        case .grabJobAll: self = .grabJobAll
        case .allYours: self = .allYours
        case .setClientID: self = .setClientID(t(a[0]))
        case .workStatus:
            self = .workStatus(handle: try Field.handle(a[0]), numerator: try Field.number(a[1], type, argument: 1),
                               denominator: try Field.number(a[2], type, argument: 2))
        case .workComplete: self = .workComplete(handle: try Field.handle(a[0]), result: a[1])
        case .workFail: self = .workFail(handle: try Field.handle(a[0]))
        case .workException: self = .workException(handle: try Field.handle(a[0]), exception: a[1])
        case .workData: self = .workData(handle: try Field.handle(a[0]), data: a[1])
        case .workWarning: self = .workWarning(handle: try Field.handle(a[0]), data: a[1])
        case .submitJob, .submitJobBackground, .submitJobHigh, .submitJobHighBackground, .submitJobLow, .submitJobLowBackground:
            let mode = GearmanSubmission.mode(of: type)!
            self = .submit(GearmanSubmission(function: t(a[0]), unique: t(a[1]), payload: a[2], priority: mode.priority, background: mode.background))
        case .submitJobSched: self = .submitScheduled(function: t(a[0]), unique: t(a[1]), schedule: a[2..<7].map(t), payload: a[7])
        case .submitJobEpoch:
            self = .submitEpoch(function: t(a[0]), unique: t(a[1]), epoch: try Field.number(a[2], type, argument: 2), payload: a[3])
        case .submitReduceJob, .submitReduceJobBackground:
            self = .submitReduce(function: t(a[0]), unique: t(a[1]), reducer: t(a[2]), payload: a[4], background: type == .submitReduceJobBackground)
        case .getStatus: self = .getStatus(handle: try Field.handle(a[0]))
        case .getStatusUnique: self = .getStatusUnique(unique: t(a[0]))
        case .optionReq: self = .optionReq(t(a[0]))
        case .echoReq: self = .echoReq(a[0])
        case .noop, .jobCreated, .noJob, .jobAssign, .echoRes, .error, .statusRes, .optionRes, .jobAssignUniq, .jobAssignAll, .statusResUnique:
            throw .wrongDirection(type)
        }
    }
}
