import FPM
import FPMTesting
import Glibc
import Testing

/// Async handlers and routes, called in-process through FPMTesting: they run on the calling
/// thread (the worker's, in a server), which blocks until they end.
@Suite struct AsyncHandlerTests {
    final class Counter: AsyncHandler {
        var setUps = 0
        var tearDowns = 0
        var served = 0

        func setUp(_ worker: WorkerInfo) async throws {
            await Task.yield()
            setUps += 1
        }

        func handle(_ request: Request, _ response: Response) async throws {
            served += 1
            switch request.path {
            case "/missing": throw HTTPError(.notFound, "nothing at /missing")
            case "/boom":
                struct Boom: Error {}
                throw Boom()
            default: try response.send("served \(served) after \(setUps) setUp\n")
            }
        }

        func tearDown() async { tearDowns += 1 }
    }

    @Test func anAsyncHandlerIsAHandler() throws {
        let app = Counter()
        let client = try TestClient(app)
        #expect(app.setUps == 1)
        let response = client.get("/")
        #expect(response.status == .ok)
        #expect(response.text == "served 1 after 1 setUp\n")
        client.close()
        #expect(app.tearDowns == 1)
    }

    @Test func errorsAreAnsweredAsFromASynchronousHandler() throws {
        let client = try TestClient(Counter())
        let missing = client.get("/missing")
        #expect(missing.status == .notFound)
        #expect(missing.text == "nothing at /missing\n")
        let boom = client.get("/boom")
        #expect(boom.status == .internalServerError)
        #expect(boom.error != nil)
        // The executor is usable after a throw.
        #expect(client.get("/").text == "served 3 after 1 setUp\n")
    }

    /// Awaits a continuation resumed from a thread of the global pool: the code after the
    /// await comes back to the calling thread, which waited for it.
    @Test func codeAfterAnAwaitRunsOnTheCallingThread() throws {
        let router = Router()
        router.get("/hop") { _, response async throws in
            let before = pthread_self()
            let resumedOn: pthread_t = await withCheckedContinuation { continuation in
                Task.detached { continuation.resume(returning: pthread_self()) }
            }
            try response.send("\(pthread_equal(before, pthread_self()) != 0) \(pthread_equal(resumedOn, before) == 0)\n")
        }
        let client = try TestClient(router)
        let caller = pthread_self()
        var threads: [pthread_t] = []
        router.get("/thread") { _, response async throws in
            threads.append(pthread_self())
            try response.send("ok\n")
        }
        #expect(client.get("/hop").text == "true true\n")
        #expect(client.get("/thread").text == "ok\n")
        #expect(threads.count == 1 && pthread_equal(threads[0], caller) != 0)
    }

    @Test func aSleepingRouteAnswersAfterItsSleep() throws {
        let router = Router()
        router.get("/nap") { _, response async throws in
            try await Task.sleep(for: .milliseconds(20))
            try response.send("rested\n")
        }
        let client = try TestClient(router)
        let clock = ContinuousClock()
        let start = clock.now
        #expect(client.get("/nap").text == "rested\n")
        #expect(clock.now - start >= .milliseconds(20))
    }

    /// Sync and async routes side by side; a closure that does not await takes the synchronous
    /// overload (this file compiling without ambiguity is half of the test).
    @Test func asyncRoutesInAGroupRunInsideItsMiddleware() throws {
        let router = Router()
        router.group("/api") { api in
            api.use { request, response, next in
                try response.setHeader("X-Group", "api")
                try next(request, response)
            }
            api.get("/items/:id") { request, response async throws in
                await Task.yield()
                try response.send("item \(request.parameters["id"] ?? "") at \(request.route ?? "")\n")
            }
        }
        let client = try TestClient(router)
        let answer = client.get("/api/items/7")
        #expect(answer.status == .ok)
        #expect(answer.text == "item 7 at /api/items/:id\n")
        #expect(answer.headers[HTTPField.Name("X-Group")!] == "api")
    }

    @Test func asyncRoutesBesideSynchronousOnes() throws {
        let router = Router()
        var events: [String] = []
        router.onSetUp { worker async throws in
            await Task.yield()
            events.append("setUp \(worker.pool)")
        }
        router.onTearDown { () async in events.append("tearDown") }
        router.get("/sync") { _, response in try response.send("sync\n") }
        router.get("/async/:name") { request, response async throws in
            await Task.yield()
            try response.send("async \(request.parameters["name"] ?? "")\n")
        }
        router.post("/async") { request, response async throws in
            try response.send("got \(try request.text())\n", status: .created)
        }
        router.delete("/async/:name") { _, _ async throws in throw HTTPError(.forbidden) }
        let client = try TestClient(router)
        #expect(client.get("/sync").text == "sync\n")
        #expect(client.get("/async/ann").text == "async ann\n")
        let posted = client.post("/async", text: "hi")
        #expect(posted.status == .created)
        #expect(posted.text == "got hi\n")
        #expect(client.delete("/async/ann").status == .forbidden)
        #expect(client.put("/async/ann").status == .methodNotAllowed)
        client.close()
        #expect(events == ["setUp test", "tearDown"])
    }

    @Test func anAsyncPreparationRunsAndThrows() throws {
        let router = Router()
        var prepared: [String] = []
        router.onPrepare { pool async throws in
            await Task.yield()
            prepared.append(pool.name)
            if pool.name == "bad" { throw HTTPError(.internalServerError, "refused") }
        }
        #expect(router.preparesPool)
        try router.prepare(PoolInfo(name: "www"))
        #expect(throws: HTTPError.self) { try router.prepare(PoolInfo(name: "bad")) }
        #expect(prepared == ["www", "bad"])
    }
}
