import HTTPTypes

/// Cross-origin resource sharing: lets a page from another origin call the app from a
/// browser, answering the browser's preflight `OPTIONS` itself.
///
/// ```swift
/// router.use(CORSMiddleware(allowOrigin: .origins(["https://app.example"]), allowCredentials: true))
/// ```
///
/// A request without `Origin` passes untouched. One from an allowed origin gets
/// `Access-Control-Allow-Origin` (and `-Allow-Credentials`, `-Expose-Headers` when set); a
/// preflight (`OPTIONS` with `Access-Control-Request-Method`) from one is answered 204 with the
/// allowed methods, headers and `Access-Control-Max-Age`, without running a route. A request
/// from an origin not allowed gets no CORS header (the browser then refuses the answer to the
/// page). `Vary: Origin` is sent whenever the answer depends on the origin, so a cache does not
/// serve one origin's answer to another.
public struct CORSMiddleware: Middleware {
    /// Which origins may call.
    public enum AllowOrigin: Sendable {
        /// Any origin: `*` (the origin itself when credentials are allowed, as `*` is then refused).
        case any
        /// These origins exactly (`https://app.example`, scheme and port included).
        case origins([String])
    }

    public let allowOrigin: AllowOrigin
    public let allowMethods: [HTTPRequest.Method]
    public let allowHeaders: [String]
    public let exposeHeaders: [String]
    public let allowCredentials: Bool
    /// How long a browser may cache a preflight's answer, in seconds; nil leaves it to the browser.
    public let maxAge: Int?
    private let methodsValue: String
    private let headersValue: String

    /// A CORS policy; the defaults allow any origin the usual methods and headers of a JSON API.
    public init(allowOrigin: AllowOrigin = .any,
                allowMethods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete],
                allowHeaders: [String] = ["Accept", "Authorization", "Content-Type", "X-Request-Id"],
                exposeHeaders: [String] = [], allowCredentials: Bool = false, maxAge: Int? = 600) {
        self.allowOrigin = allowOrigin
        self.allowMethods = allowMethods
        self.allowHeaders = allowHeaders
        self.exposeHeaders = exposeHeaders
        self.allowCredentials = allowCredentials
        self.maxAge = maxAge
        methodsValue = allowMethods.map(\.rawValue).joined(separator: ", ")
        headersValue = allowHeaders.joined(separator: ", ")
    }

    /// Whether the `Access-Control-Allow-Origin` value depends on the request's origin.
    private var variesByOrigin: Bool {
        if case .any = allowOrigin { return allowCredentials }
        return true
    }

    /// The `Access-Control-Allow-Origin` value for `origin`; nil when it may not call.
    func allowedOrigin(_ origin: String) -> String? {
        switch allowOrigin {
        case .any: return allowCredentials ? origin : "*"
        case .origins(let list): return list.contains(origin) ? origin : nil
        }
    }

    /// Answers a preflight, or adds the CORS headers and runs the rest of the chain.
    public func handle(_ request: Request, _ response: Response, next: Router.Responder) throws {
        guard let origin = request.header(.origin) else {
            if variesByOrigin { try response.addHeader(.vary, "Origin") }
            return try next(request, response)
        }
        if variesByOrigin { try response.addHeader(.vary, "Origin") }
        guard let allowed = allowedOrigin(origin) else { return try next(request, response) }
        try response.setHeader(.accessControlAllowOrigin, allowed)
        if allowCredentials { try response.setHeader(.accessControlAllowCredentials, "true") }
        if request.method == .options, request.header(.accessControlRequestMethod) != nil {
            try response.setHeader(.accessControlAllowMethods, methodsValue)
            if !headersValue.isEmpty { try response.setHeader(.accessControlAllowHeaders, headersValue) }
            if let maxAge { try response.setHeader(.accessControlMaxAge, String(maxAge)) }
            response.status = .noContent
            return
        }
        if !exposeHeaders.isEmpty { try response.setHeader(.accessControlExposeHeaders, exposeHeaders.joined(separator: ", ")) }
        try next(request, response)
    }
}
