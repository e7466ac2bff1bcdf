import Gearman

/// One value of every typed request and response, with payloads that hold NULs, so the
/// round-trip tests cover every packet type each way it goes.
enum Samples {
    static let payload: [UInt8] = [0x7B, 0, 0x22, 0xFF, 0, 0, 0x7D]
    static let job = GearmanJob(handle: "H:host:42", function: "syncToRedis", unique: "row-7", payload: payload)

    static let requests: [GearmanRequest] = [
        .canDo(function: "syncToRedis"),
        .canDoTimeout(function: "slow", timeout: 30),
        .cantDo(function: "syncToRedis"),
        .resetAbilities,
        .preSleep,
        .grabJob,
        .grabJobUniq,
        .grabJobAll,
        .allYours,
        .setClientID("pool-www-3"),
        .workStatus(handle: "H:host:42", numerator: 3, denominator: 10),
        .workComplete(handle: "H:host:42", result: payload),
        .workComplete(handle: "H:host:42", result: []),
        .workFail(handle: "H:host:42"),
        .workException(handle: "H:host:42", exception: Array("boom".utf8)),
        .workData(handle: "H:host:42", data: payload),
        .workWarning(handle: "H:host:42", data: Array("careful".utf8)),
        .submitScheduled(function: "f", unique: "u", schedule: ["5", "4", "3", "2", "1"], payload: payload),
        .submitEpoch(function: "f", unique: "u", epoch: 1_700_000_000, payload: payload),
        .submitReduce(function: "map", unique: "u", reducer: "reduce", payload: payload, background: false),
        .submitReduce(function: "map", unique: "u", reducer: "reduce", payload: payload, background: true),
        .getStatus(handle: "H:host:42"),
        .getStatusUnique(unique: "row-7"),
        .optionReq("exceptions"),
        .echoReq(payload),
        .echoReq([]),
    ] + GearmanPriority.allCases.flatMap { priority in
        [false, true].map { background in
            GearmanRequest.submit(GearmanSubmission(function: "syncToRedis", unique: "row-7", payload: payload,
                                                    priority: priority, background: background))
        }
    }

    static let responses: [GearmanResponse] = [
        .noop,
        .noJob,
        .jobAssign(GearmanJob(handle: "H:host:1", function: "reverse", payload: payload)),
        .jobAssignUniq(job),
        .jobAssignUniq(GearmanJob(handle: "H:host:2", function: "f", unique: "", payload: [])),
        .jobAssignAll(job, reducer: "reduce"),
        .jobCreated(handle: "H:host:42"),
        .workStatus(handle: "H:host:42", numerator: 1, denominator: 2),
        .workComplete(handle: "H:host:42", result: payload),
        .workFail(handle: "H:host:42"),
        .workException(handle: "H:host:42", exception: payload),
        .workData(handle: "H:host:42", data: payload),
        .workWarning(handle: "H:host:42", data: payload),
        .statusRes(GearmanJobStatus(id: "H:host:42", known: true, running: false, numerator: 0, denominator: 0)),
        .statusResUnique(GearmanJobStatus(id: "row-7", known: true, running: true, numerator: 5, denominator: 9, clientCount: 2)),
        .optionRes("exceptions"),
        .echoRes(payload),
        .error(code: "ERR_UNKNOWN", text: "no such thing"),
    ]

    /// Every request, then every response, as one byte stream per direction.
    static var requestStream: [UInt8] { requests.reduce(into: []) { $1.packet.encode(into: &$0) } }
    static var responseStream: [UInt8] { responses.reduce(into: []) { $1.packet.encode(into: &$0) } }

    /// A header with any type number and size (for garbage and limits).
    static func header(_ magic: GearmanMagic, type: UInt32, size: UInt32) -> [UInt8] {
        magic.bytes + bigEndian(type) + bigEndian(size)
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    /// Parses a whole stream fed in `chunks`-sized pieces (1: byte by byte).
    static func parse(_ stream: [UInt8], expecting: GearmanMagic, chunk: Int,
                      limits: GearmanLimits = GearmanLimits()) throws -> [GearmanPacket] {
        var parser = GearmanPacketParser(expecting: expecting, limits: limits)
        var packets: [GearmanPacket] = []
        var offset = 0
        while offset < stream.count {
            let end = min(offset + chunk, stream.count)
            parser.append(stream[offset..<end])
            offset = end
            while let packet = try parser.next() { packets.append(packet) }
        }
        try parser.finish()
        return packets
    }
}
