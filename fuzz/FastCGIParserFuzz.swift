// libFuzzer entry for the FastCGI request parser. Built by mk/fastcgi.mk together with
// Sources/FastCGI/*.swift (no module import: the sources are compiled into this binary).
//
// Input: byte 0 picks how the stream is split (chunk size 1...255, 0 = whole), byte 1 the
// accepted roles; the rest is the byte stream a web server would send. Invariants checked:
// - the parser never crashes or traps, whatever the bytes;
// - the events (and the error, if any) do not depend on where the stream is split;
// - events come in protocol order (begin, params, stdin chunks, stdinEnd) and chunks are non-empty;
// - params never exceed the limits, re-encode to an equal set, and lookups find the last value;
// - every reply is well-framed records of version 1;
// - a ResponseWriter echoing the body frames records whose STDOUT content is the body.

let fuzzLimits = ParserLimits(maxParamsBytes: 600, maxParamsCount: 20, maxRecordsBeforeBegin: 8)
let fuzzManagement = ManagementValues(maxConns: 7, maxReqs: 7)

struct Outcome: Equatable {
    var events: [ParserEvent] = []
    var error: FastCGIError?
    var leftover = 0
}

func run(_ stream: UnsafeRawBufferPointer, chunk: Int, roles: Set<Role>) -> Outcome {
    var parser = RequestParser(limits: fuzzLimits, management: fuzzManagement, acceptedRoles: roles)
    var outcome = Outcome()
    var offset = 0
    let step = chunk == 0 ? max(stream.count, 1) : chunk
    feeding: while offset < stream.count {
        let n = min(step, stream.count - offset)
        parser.append(UnsafeRawBufferPointer(rebasing: stream[offset..<offset + n]))
        offset += n
        do {
            while let event = try parser.nextEvent() {
                // Copy slices: they share the parser's buffer.
                switch event {
                case .stdin(let s): outcome.events.append(.stdin(ArraySlice(Array(s))))
                case .data(let s): outcome.events.append(.data(ArraySlice(Array(s))))
                default: outcome.events.append(event)
                }
                if case .stdinEnd = event { parser.requestFinished() }
            }
        } catch {
            outcome.error = error
            break feeding
        }
    }
    if outcome.error == nil { outcome.leftover = parser.bufferedCount }
    return outcome
}

func checkReply(_ bytes: [UInt8]) {
    var i = 0
    precondition(!bytes.isEmpty, "empty reply")
    while i < bytes.count {
        guard let h = RecordHeader.decode(bytes[i...]) else { fatalError("reply ends inside a header") }
        precondition(h.version == 1, "reply record version \(h.version)")
        i += RecordHeader.size + h.bodyLength
        precondition(i <= bytes.count, "reply record overruns")
        if h.recordType == .getValuesResult {
            let content = Array(bytes[(i - h.bodyLength)..<(i - Int(h.paddingLength))])
            let pairs = try! NameValuePairs.decode(content)
            for (name, _) in pairs {
                precondition(["FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS"].contains(name), "answered \(name)")
            }
        }
    }
}

func checkParams(_ p: FastCGIParams) {
    precondition(p.count <= fuzzLimits.maxParamsCount, "params count \(p.count) over the limit")
    precondition(p.encoded.count <= fuzzLimits.maxParamsBytes, "params bytes \(p.encoded.count) over the limit")
    let pairs = p.bytePairs
    precondition(pairs.count == p.count)
    let again = try! FastCGIParams(encoded: NameValuePairs.encode(pairs), maxCount: Int.max)
    precondition(again == p, "params do not round-trip")
    for (name, value) in pairs {
        let last = pairs.last(where: { $0.0 == name })!.1
        let found: [UInt8]? = name.withUnsafeBytes { n in p.withValue(bytes: n) { $0.map { Array($0) } } }
        precondition(found == last, "lookup did not find the last value")
        _ = value
    }
}

func checkOrder(_ events: [ParserEvent]) {
    enum Stage { case idle, params, body, done }
    var stage = Stage.idle
    for e in events {
        switch e {
        case .begin:
            precondition(stage == .idle || stage == .done, "begin inside a request")
            stage = .params
        case .params(let p):
            precondition(stage == .params, "params outside a request")
            checkParams(p)
            stage = .body
        case .stdin(let s):
            precondition(stage == .body && !s.isEmpty, "stdin out of order or empty")
        case .data(let s):
            precondition(stage == .body && !s.isEmpty, "data out of order or empty")
        case .stdinEnd:
            precondition(stage == .body, "stdinEnd out of order")
            stage = .done  // the fuzz driver calls requestFinished() here
        case .dataEnd:
            precondition(stage == .body, "dataEnd out of order")
        case .abort:
            precondition(stage == .params || stage == .body, "abort with no request")
        case .reply(let bytes):
            checkReply(bytes)
        }
    }
}

func checkWriterEcho(_ events: [ParserEvent]) {
    var body: [UInt8] = []
    for case .stdin(let s) in events { body += s }
    var w = ResponseWriter(requestID: 3, capacity: 64)
    w.stdout(body)
    w.stderr(body.prefix(3))
    w.end(appStatus: 1)
    var i = 0
    var out: [UInt8] = []
    let bytes = w.bytes
    var ended = false
    while i < bytes.count {
        let h = RecordHeader.decode(bytes[i...])!
        precondition(h.requestID == 3 && !ended)
        let content = bytes[(i + 8)..<(i + 8 + Int(h.contentLength))]
        if h.recordType == .stdout { out += content }
        if h.recordType == .endRequest { ended = true }
        i += 8 + h.bodyLength
    }
    precondition(ended && out == body, "writer echo mismatch")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fastCGIParserFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let chunk = Int(data[0])
    var roles: Set<Role> = [.responder]
    if data[1] & 1 != 0 { roles.insert(.authorizer) }
    if data[1] & 2 != 0 { roles.insert(.filter) }
    let stream = UnsafeRawBufferPointer(start: data + 2, count: size - 2)
    let whole = run(stream, chunk: 0, roles: roles)
    checkOrder(whole.events)
    if let e = whole.error { precondition(!e.description.isEmpty) }
    let split = run(stream, chunk: chunk == 0 ? 1 : chunk, roles: roles)
    precondition(split == whole, "events depend on how the stream is split (chunk \(chunk))")
    checkWriterEcho(whole.events)
    return 0
}
