import FPMSystem
import FastCGI

/// A pool's access log in a worker: the compiled `access.format` and the inherited descriptor.
/// One line, one write(2), after the response has gone out.
package final class AccessLogWriter {
    /// Borrowed: the pool (`PoolRuntime`) owns the file; a reopen keeps the number.
    let fd: Int32
    let format: AccessLogFormat
    let suppressPaths: Set<String>
    /// The format has `%I`: resolve the request's identity for it.
    let usesIdentity: Bool
    /// The format has `%C` or `%M`: the worker samples every request's CPU and memory.
    let usesCost: Bool
    var buffer: [UInt8] = []

    init(fd: Int32, format: String, suppressPaths: [String]) throws {
        self.fd = fd
        self.format = try AccessLogFormat(parsing: format)
        self.suppressPaths = Set(suppressPaths)
        self.usesIdentity = self.format.usesIdentity
        self.usesCost = self.format.usesCost
        buffer.reserveCapacity(1024)
    }

    func write(request: ServerRequest, response: ServerResponse, peer: PeerAddress, pool: String, pid: Int32, masterPID: Int32,
               startWall: (seconds: Int, microseconds: Int), durationMicros: Int, cpuUserMicros: Int, cpuSystemMicros: Int,
               memory: Int) {
        buffer.removeAll(keepingCapacity: true)
        guard Self.render(format, suppressPaths: suppressPaths, request: request, response: response, peer: peer, pool: pool,
                          pid: pid, masterPID: masterPID, startWall: startWall, durationMicros: durationMicros,
                          cpuUserMicros: cpuUserMicros, cpuSystemMicros: cpuSystemMicros, memory: memory,
                          into: &buffer) else { return }
        buffer.withUnsafeBytes { try? FileIO.writeAll(fd, $0) }
    }

    /// The access-log line for one request, appended to `buffer`; false when
    /// `access.suppress_path` leaves it out. The worker and `TestClient` both write with this.
    package static func render(_ format: AccessLogFormat, suppressPaths: Set<String>, request: ServerRequest,
                               response: ServerResponse, peer: PeerAddress, pool: String, pid: Int32, masterPID: Int32,
                               startWall: (seconds: Int, microseconds: Int), durationMicros: Int, cpuUserMicros: Int,
                               cpuSystemMicros: Int, memory: Int, into buffer: inout [UInt8]) -> Bool {
        let params = request.params
        let uri = params["SCRIPT_NAME"] ?? ""
        let query = params["QUERY_STRING"] ?? ""
        let method = params["REQUEST_METHOD"] ?? ""
        // access.suppress_path: only successful, query-less, body-less GET/HEAD of an exact path.
        if !suppressPaths.isEmpty, suppressPaths.contains(uri), query.isEmpty, method == "GET" || method == "HEAD",
           (200...299).contains(response.status), request.bodyBytesRead == 0, (request.contentLength ?? 0) == 0 {
            return false
        }
        let end = SystemClock.wallClock()
        let headers = response.headers
        let record = AccessLogRecord(
            remoteAddr: peer.text, remoteUser: params["REMOTE_USER"] ?? "", method: method.isEmpty ? "-" : method,
            requestURI: uri, queryString: query, scriptFilename: params["SCRIPT_FILENAME"] ?? "-",
            contentLength: request.contentLength ?? 0, status: response.status,
            startSeconds: startWall.seconds, startMicroseconds: startWall.microseconds,
            endSeconds: end.seconds, endMicroseconds: end.microseconds, durationMicroseconds: durationMicros,
            cpuUserSeconds: Double(cpuUserMicros) / 1e6, cpuSystemSeconds: Double(cpuSystemMicros) / 1e6,
            memoryBytes: memory, pool: pool, pid: pid, ppid: masterPID,
            parameter: { params[$0] }, responseHeader: AccessLogRecord.headerLookup(headers),
            identity: format.usesIdentity ? request.identity : nil)
        _ = format.render(record, into: &buffer)
        return true
    }
}
