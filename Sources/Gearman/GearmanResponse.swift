/// What the server sends a worker or a client, typed: read from a `GearmanPacket`, and built
/// into one (a server's view, and the tests').
public enum GearmanResponse: Equatable, Sendable {
    // Worker.
    case noop
    case noJob
    case jobAssign(GearmanJob)
    case jobAssignUniq(GearmanJob)
    case jobAssignAll(GearmanJob, reducer: String)
    // Client: the job it submitted, and what the worker reports about it.
    case jobCreated(handle: String)
    case workStatus(handle: String, numerator: Int, denominator: Int)
    case workComplete(handle: String, result: [UInt8])
    case workFail(handle: String)
    case workException(handle: String, exception: [UInt8])
    case workData(handle: String, data: [UInt8])
    case workWarning(handle: String, data: [UInt8])
    case statusRes(GearmanJobStatus)
    case statusResUnique(GearmanJobStatus)
    case optionRes(String)
    // Either.
    case echoRes([UInt8])
    case error(code: String, text: String)

    /// The packet to send.
    public var packet: GearmanPacket {
        let b = Field.bytes
        switch self {
        case .noop: return GearmanPacket(.response, .noop)
        case .noJob: return GearmanPacket(.response, .noJob)
        case .jobAssign(let j): return GearmanPacket(.response, .jobAssign, [b(j.handle), b(j.function), j.payload])
        case .jobAssignUniq(let j):
            return GearmanPacket(.response, .jobAssignUniq, [b(j.handle), b(j.function), b(j.unique), j.payload])
        case .jobAssignAll(let j, let r):
            return GearmanPacket(.response, .jobAssignAll, [b(j.handle), b(j.function), b(j.unique), b(r), j.payload])
        case .jobCreated(let h): return GearmanPacket(.response, .jobCreated, [b(h)])
        case .workStatus(let h, let n, let d): return GearmanPacket(.response, .workStatus, [b(h), b(String(n)), b(String(d))])
        case .workComplete(let h, let r): return GearmanPacket(.response, .workComplete, [b(h), r])
        case .workFail(let h): return GearmanPacket(.response, .workFail, [b(h)])
        case .workException(let h, let e): return GearmanPacket(.response, .workException, [b(h), e])
        case .workData(let h, let d): return GearmanPacket(.response, .workData, [b(h), d])
        case .workWarning(let h, let d): return GearmanPacket(.response, .workWarning, [b(h), d])
        case .statusRes(let s):
            return GearmanPacket(.response, .statusRes, [b(s.id), flag(s.known), flag(s.running), b(String(s.numerator)), b(String(s.denominator))])
        case .statusResUnique(let s):
            return GearmanPacket(.response, .statusResUnique, [b(s.id), flag(s.known), flag(s.running), b(String(s.numerator)),
                                                             b(String(s.denominator)), b(String(s.clientCount ?? 0))])
        case .optionRes(let o): return GearmanPacket(.response, .optionRes, [b(o)])
        case .echoRes(let d): return GearmanPacket(.response, .echoRes, [d])
        case .error(let c, let t): return GearmanPacket(.response, .error, [b(c), b(t)])
        }
    }

    /// The response a packet holds (`packet.magic` must be `.response`).
    public init(_ packet: GearmanPacket) throws(GearmanError) {
        guard packet.magic == .response else { throw .unexpectedMagic(request: true) }
        let a = packet.arguments
        let t = Field.text
        let type = packet.type
        guard a.count == type.argumentCount else { throw .missingArguments(type, expected: type.argumentCount, found: a.count) }
        switch type {
        case .noop: self = .noop
        case .noJob: self = .noJob
        case .jobAssign: self = .jobAssign(GearmanJob(handle: try Field.handle(a[0]), function: t(a[1]), payload: a[2]))
        case .jobAssignUniq:
            self = .jobAssignUniq(GearmanJob(handle: try Field.handle(a[0]), function: t(a[1]), unique: t(a[2]), payload: a[3]))
        case .jobAssignAll:
            self = .jobAssignAll(GearmanJob(handle: try Field.handle(a[0]), function: t(a[1]), unique: t(a[2]), payload: a[4]), reducer: t(a[3]))
        case .jobCreated: self = .jobCreated(handle: try Field.handle(a[0]))
        case .workStatus:
            self = .workStatus(handle: try Field.handle(a[0]), numerator: try Field.number(a[1], type, argument: 1),
                               denominator: try Field.number(a[2], type, argument: 2))
        case .workComplete: self = .workComplete(handle: try Field.handle(a[0]), result: a[1])
        case .workFail: self = .workFail(handle: try Field.handle(a[0]))
        case .workException: self = .workException(handle: try Field.handle(a[0]), exception: a[1])
        case .workData: self = .workData(handle: try Field.handle(a[0]), data: a[1])
        case .workWarning: self = .workWarning(handle: try Field.handle(a[0]), data: a[1])
        case .statusRes:
            self = .statusRes(GearmanJobStatus(
                id: try Field.handle(a[0]), known: try Field.flag(a[1], type, argument: 1), running: try Field.flag(a[2], type, argument: 2),
                numerator: try Field.number(a[3], type, argument: 3), denominator: try Field.number(a[4], type, argument: 4)))
        case .statusResUnique:
            self = .statusResUnique(GearmanJobStatus(
                id: t(a[0]), known: try Field.flag(a[1], type, argument: 1), running: try Field.flag(a[2], type, argument: 2),
                numerator: try Field.number(a[3], type, argument: 3), denominator: try Field.number(a[4], type, argument: 4),
                clientCount: try Field.number(a[5], type, argument: 5)))
        case .optionRes: self = .optionRes(t(a[0]))
        case .echoRes: self = .echoRes(a[0])
        case .error: self = .error(code: t(a[0]), text: t(a[1]))
        case .canDo, .cantDo, .resetAbilities, .preSleep, .submitJob, .grabJob, .getStatus, .echoReq, .submitJobBackground,
             .submitJobHigh, .setClientID, .canDoTimeout, .allYours, .optionReq, .grabJobUniq, .submitJobHighBackground,
             .submitJobLow, .submitJobLowBackground, .submitJobSched, .submitJobEpoch, .submitReduceJob,
             .submitReduceJobBackground, .grabJobAll, .getStatusUnique:
            throw .wrongDirection(type)
        }
    }

    private func flag(_ value: Bool) -> [UInt8] { value ? [0x31] : [0x30] }
}
