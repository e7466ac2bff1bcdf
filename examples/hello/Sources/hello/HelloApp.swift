import FPM
import Glibc

/// The example app as a router: a greeting, JSON in and out, an echo, a form, and a
/// per-worker counter that shows state living in the worker process between requests.
enum HelloApp {
    /// What one worker keeps between requests (each worker has its own after fork).
    final class State {
        var worker: WorkerInfo?
        var greeting = "Hello"
        var served = 0
        /// `env[HELLO_API_TOKEN]`: when set, the `/api` group asks for it as a bearer token.
        var apiToken: String?
    }

    struct Status: Codable {
        var pool: String
        var pid: Int32
        var served: Int
        var method: String
    }

    struct Greeting: Codable, Equatable {
        var name: String
        var excited: Bool?
    }

    struct HelloError: Error, CustomStringConvertible {
        var description: String
    }

    static func router(state: State = State()) -> Router {
        let router = Router()
        router.onSetUp { worker in
            state.worker = worker
            // env[HELLO_GREETING] in the pool config reaches the worker's environment.
            if let value = worker.environment.last(where: { $0.0 == "HELLO_GREETING" })?.1 { state.greeting = value }
            state.apiToken = worker.environment.last(where: { $0.0 == "HELLO_API_TOKEN" })?.1
        }
        // Every answer carries an X-Request-Id (the caller's, a traceparent's trace id, or new).
        router.use(RequestIDMiddleware())
        // A group: routes under /api, behind a middleware that checks a token when one is set.
        router.group("/api") { api in
            api.use { request, response, next in
                if let token = state.apiToken, request.header(.authorization) != "Bearer \(token)" {
                    var headers = HTTPFields()
                    headers[.wwwAuthenticate] = "Bearer"
                    throw HTTPError(.unauthorized, headers: headers)
                }
                try next(request, response)
            }
            api.get("/greetings/:name") { request, response in
                state.served += 1
                try response.json(["message": "\(state.greeting), \(try request.parameters.require("name", as: String.self))!",
                                   "request": request.id])
            }
        }
        let greet: Router.Responder = { request, response in
            state.served += 1
            try response.send("\(state.greeting), \(request.query["name"] ?? "world")!\n")
        }
        router.get("/", greet)
        router.get("/hello", greet)
        router.get("/hello/:name") { request, response in
            state.served += 1
            try response.send("\(state.greeting), \(request.parameters["name"] ?? "world")!\n")
        }
        router.post("/hello") { request, response in
            state.served += 1
            let greeting = try request.decode(Greeting.self)
            try response.json(["message": "\(state.greeting), \(greeting.name)\(greeting.excited == true ? "!!" : "!")"])
        }
        router.get("/json") { request, response in
            state.served += 1
            try response.json(Status(pool: state.worker?.pool ?? "", pid: state.worker?.pid ?? getpid(),
                                     served: state.served, method: request.method.rawValue))
        }
        router.post("/echo") { request, response in
            response.contentType = request.contentType ?? "application/octet-stream"
            var chunk = [UInt8](repeating: 0, count: 65536)
            while case let n = try request.read(into: &chunk), n > 0 {
                try response.write(chunk[0..<n])
            }
        }
        router.post("/form") { request, response in
            let form = try request.form()
            try response.send(form.map { "\($0.name)=\($0.value)" }.joined(separator: "\n") + "\n")
        }
        router.get("/throw") { _, _ in
            // A thrown error: the worker answers 500 and logs the error; the worker lives on.
            throw HelloError(description: "demo error from /throw")
        }
        router.get("/crash") { _, _ in
            // A crash costs this request only: the master replaces the worker.
            fatalError("demo crash from /crash")
        }
        return router
    }
}
