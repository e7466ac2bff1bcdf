/// Bounds the request parser enforces, so that one connection cannot make a worker hold
/// unbounded memory or spin on records that never start a request.
public struct ParserLimits: Sendable, Equatable {
    /// The most bytes of encoded PARAMS stream one request may send (length prefixes
    /// included). Default 256 KiB: nginx's defaults (4 × 8 KiB large header buffers plus the
    /// `fastcgi_params` set) stay far below it; past it the request is rejected with
    /// `.paramsTooLarge`.
    public var maxParamsBytes: Int
    /// The most name-value pairs one request may send. Default 1000 (nginx sends ~25 plus
    /// one per request header).
    public var maxParamsCount: Int
    /// The most records accepted while no request is active and none of them starts one:
    /// GET_VALUES, UNKNOWN_TYPE-answered records, empty STDIN records before BEGIN_REQUEST,
    /// ABORT_REQUESTs for finished requests. Default 256; the count restarts at each accepted
    /// BEGIN_REQUEST. Past it, `.tooManyRecordsBeforeBegin`.
    public var maxRecordsBeforeBegin: Int

    public init(maxParamsBytes: Int = 256 * 1024, maxParamsCount: Int = 1000, maxRecordsBeforeBegin: Int = 256) {
        self.maxParamsBytes = maxParamsBytes
        self.maxParamsCount = maxParamsCount
        self.maxRecordsBeforeBegin = maxRecordsBeforeBegin
    }
}

/// The answers to FCGI_GET_VALUES. `FCGI_MPXS_CONNS` is always `0`: a connection carries one
/// request at a time. Only names the server asks for are answered; unknown names are left out.
public struct ManagementValues: Sendable, Equatable {
    /// `FCGI_MAX_CONNS`: the most concurrent connections the application accepts.
    public var maxConns: Int
    /// `FCGI_MAX_REQS`: the most concurrent requests the application accepts.
    public var maxReqs: Int

    public init(maxConns: Int, maxReqs: Int) {
        self.maxConns = maxConns
        self.maxReqs = maxReqs
    }

    /// The value for one variable name, or nil for a name this library does not answer.
    public func value(for name: UnsafeRawBufferPointer) -> String? {
        variable(name).map { value(of: $0) }
    }

    private func variable(_ name: UnsafeRawBufferPointer) -> Int? {
        if name.elementsEqual("FCGI_MAX_CONNS".utf8) { return 0 }
        if name.elementsEqual("FCGI_MAX_REQS".utf8) { return 1 }
        if name.elementsEqual("FCGI_MPXS_CONNS".utf8) { return 2 }
        return nil
    }

    private func value(of variable: Int) -> String {
        switch variable {
        case 0: return String(maxConns)
        case 1: return String(maxReqs)
        default: return "0"
        }
    }

    /// The framed GET_VALUES_RESULT answering the encoded GET_VALUES body `query`.
    public func reply(to query: UnsafeRawBufferPointer) throws(FastCGIError) -> [UInt8] {
        var content: [UInt8] = []
        var answered = 0
        var offset = 0
        while offset < query.count {
            let (s, next) = try NameValuePairs.decodePair(query, at: offset)
            let name = UnsafeRawBufferPointer(rebasing: query[s.nameStart..<s.nameStart + s.nameCount])
            // Each known name is answered once, however often it is asked: the answer then
            // always fits one record.
            if let v = variable(name), answered & (1 << v) == 0 {
                answered |= 1 << v
                NameValuePairs.append(name: name, value: value(of: v).utf8, to: &content)
            }
            offset = next
        }
        var out: [UInt8] = []
        out.reserveCapacity(RecordHeader.size + content.count)
        // Answers are short: three names and numbers fit well inside one record.
        Records.append(type: .getValuesResult, requestID: 0, content: content, to: &out)
        return out
    }
}
