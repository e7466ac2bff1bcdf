import Foundation
import PackagePlugin

/// The release build, run as `swift build` in a scratch folder of its own: the plugin API's
/// build call cannot pass --static-swift-stdlib, and a folder apart from .build (which the
/// running `swift package` holds locked) lets the compiler's progress lines reach the terminal
/// as they come. Building a second product there reuses every module the first one compiled.
struct SwiftBuild {
    var swift: String
    var packageDirectory: String
    var scratchPath: String

    init(context: PluginContext, packageDirectory: String, scratchPath: String) throws {
        self.packageDirectory = packageDirectory
        self.scratchPath = scratchPath.hasPrefix("/") ? scratchPath : packageDirectory + "/" + scratchPath
        if let tool = try? context.tool(named: "swift") {
            swift = tool.url.path
        } else if let found = SwiftBuild.search(path: ProcessInfo.processInfo.environment["PATH"] ?? "", for: "swift") {
            swift = found
        } else {
            throw InstallError("cannot find the `swift` driver (neither beside SwiftPM nor on PATH)")
        }
    }

    var binPath: String { scratchPath + "/release" }

    func build(product: String) throws {
        let arguments = ["build", "-c", "release", "--static-swift-stdlib", "--product", product,
                         "--package-path", packageDirectory, "--scratch-path", scratchPath]
        let status = try SwiftBuild.run(swift, arguments)
        guard status == 0 else {
            throw InstallError("`swift \(arguments.joined(separator: " "))` failed (exit \(status))")
        }
    }

    /// Runs a program with the plugin's own output (which SwiftPM shows as it comes).
    static func run(_ program: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// A program's standard output, which must exit 0.
    static func output(of program: String, _ arguments: [String]) throws -> Data {
        let process = Process()
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw InstallError("`\(program) \(arguments.joined(separator: " "))` exited \(process.terminationStatus)")
        }
        return data
    }

    static func search(path: String, for name: String) -> String? {
        path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
