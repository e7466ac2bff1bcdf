/// What the worker knows about one finished request, for the access log.
///
/// Plain values; each token of ``AccessLogFormat`` reads one field. Empty strings render as
/// php-fpm renders a missing value: `-` for `%R`, `%m` and `%f`; nothing for `%u`, `%q`, `%r`
/// and `%n`. A `%e`/`%o` lookup returning nil renders `-`, an empty value renders nothing.
package struct AccessLogRecord {
    /// `%R`: the FastCGI peer's address (the web server's, not the end user's).
    package var remoteAddr: String
    /// `%u`: the authenticated user.
    package var remoteUser: String
    /// `%m`.
    package var method: String
    /// `%r`: the script-name-derived URI, not REQUEST_URI.
    package var requestURI: String
    /// `%q`, and `%Q` (`?` when not empty).
    package var queryString: String
    /// `%f`.
    package var scriptFilename: String
    /// `%l`: the request body's length.
    package var contentLength: Int
    /// `%s`: the response status code.
    package var status: Int
    /// `%t`: when the request was accepted, seconds since the epoch (and the microseconds).
    package var startSeconds: Int
    package var startMicroseconds: Int
    /// `%T`: when the line is written, seconds since the epoch (and the microseconds).
    package var endSeconds: Int
    package var endMicroseconds: Int
    /// `%d`, and the denominator of `%C`.
    package var durationMicroseconds: Int
    /// `%C`: CPU time the request used, in seconds (children's time included if wanted).
    package var cpuUserSeconds: Double
    package var cpuSystemSeconds: Double
    /// `%M`: peak memory, bytes.
    package var memoryBytes: Int
    /// `%n`.
    package var pool: String
    /// `%p` and `%P`.
    package var pid: Int32
    package var ppid: Int32
    /// `%{NAME}e`: a FastCGI parameter by exact name, nil when absent.
    package var parameter: (String) -> String?
    /// `%I`: the request's id and trace context; nil renders `-`. The writer resolves it only
    /// when the format has `%I` (``AccessLogFormat/usesIdentity``).
    package var identity: RequestIdentity?
    /// `%{Name}o`: a response header's value, nil when absent. See
    /// ``headerLookup(_:)`` for the matching php-fpm users expect.
    package var responseHeader: (String) -> String?

    package init(
        remoteAddr: String = "",
        remoteUser: String = "",
        method: String = "",
        requestURI: String = "",
        queryString: String = "",
        scriptFilename: String = "",
        contentLength: Int = 0,
        status: Int = 0,
        startSeconds: Int = 0,
        startMicroseconds: Int = 0,
        endSeconds: Int = 0,
        endMicroseconds: Int = 0,
        durationMicroseconds: Int = 0,
        cpuUserSeconds: Double = 0,
        cpuSystemSeconds: Double = 0,
        memoryBytes: Int = 0,
        pool: String = "",
        pid: Int32 = 0,
        ppid: Int32 = 0,
        parameter: @escaping (String) -> String? = { _ in nil },
        responseHeader: @escaping (String) -> String? = { _ in nil },
        identity: RequestIdentity? = nil
    ) {
        self.remoteAddr = remoteAddr
        self.remoteUser = remoteUser
        self.method = method
        self.requestURI = requestURI
        self.queryString = queryString
        self.scriptFilename = scriptFilename
        self.contentLength = contentLength
        self.status = status
        self.startSeconds = startSeconds
        self.startMicroseconds = startMicroseconds
        self.endSeconds = endSeconds
        self.endMicroseconds = endMicroseconds
        self.durationMicroseconds = durationMicroseconds
        self.cpuUserSeconds = cpuUserSeconds
        self.cpuSystemSeconds = cpuSystemSeconds
        self.memoryBytes = memoryBytes
        self.pool = pool
        self.pid = pid
        self.ppid = ppid
        self.parameter = parameter
        self.responseHeader = responseHeader
        self.identity = identity
    }

    /// A `%o` lookup over a header list: the first header whose name matches ignoring ASCII
    /// case. php-fpm matches case-sensitively, so its `%{Content-Type}o` misses PHP's own
    /// `Content-type` header; HTTP names are case-insensitive, and so is this.
    package static func headerLookup(_ headers: [(name: String, value: String)]) -> (String) -> String? {
        { wanted in headers.first { $0.name.caseInsensitiveEquals(wanted) }?.value }
    }
}
