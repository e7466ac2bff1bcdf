/// The values the typed packets carry: a job as a worker receives it, a submission as a client
/// sends it, a job's status as the server reports it.

/// A job handed to a worker (JOB_ASSIGN, JOB_ASSIGN_UNIQ, JOB_ASSIGN_ALL).
public struct GearmanJob: Equatable, Sendable {
    /// The server's name for the job (`H:host:N`); every report about it names it.
    public var handle: String
    public var function: String
    /// The client's unique id; empty for a plain JOB_ASSIGN, which carries none.
    public var unique: String
    public var payload: [UInt8]

    public init(handle: String, function: String, unique: String = "", payload: [UInt8]) {
        self.handle = handle
        self.function = function
        self.unique = unique
        self.payload = payload
    }
}

/// The queue a job goes into: gearmand runs every high job before any normal one, every normal
/// one before any low one.
public enum GearmanPriority: Sendable, Equatable, CaseIterable {
    case high
    case normal
    case low
}

/// A job as a client submits it (SUBMIT_JOB and its _BG, _HIGH, _LOW variants).
public struct GearmanSubmission: Equatable, Sendable {
    public var function: String
    /// The client's id for the job: gearmand merges a submission whose id is already queued
    /// for the same function into that job. Empty: the server makes one up.
    public var unique: String
    public var payload: [UInt8]
    public var priority: GearmanPriority
    /// A background job is detached: the client hears only JOB_CREATED.
    public var background: Bool

    public init(function: String, unique: String = "", payload: [UInt8], priority: GearmanPriority = .normal, background: Bool) {
        self.function = function
        self.unique = unique
        self.payload = payload
        self.priority = priority
        self.background = background
    }

    /// The packet type for this priority and mode.
    public var packetType: GearmanPacketType {
        switch (priority, background) {
        case (.normal, false): .submitJob
        case (.normal, true): .submitJobBackground
        case (.high, false): .submitJobHigh
        case (.high, true): .submitJobHighBackground
        case (.low, false): .submitJobLow
        case (.low, true): .submitJobLowBackground
        }
    }

    /// The priority and mode a SUBMIT_JOB* type stands for; nil for other types.
    public static func mode(of type: GearmanPacketType) -> (priority: GearmanPriority, background: Bool)? {
        switch type {
        case .submitJob: (.normal, false)
        case .submitJobBackground: (.normal, true)
        case .submitJobHigh: (.high, false)
        case .submitJobHighBackground: (.high, true)
        case .submitJobLow: (.low, false)
        case .submitJobLowBackground: (.low, true)
        default: nil
        }
    }
}

/// A job's status as STATUS_RES (by handle) or STATUS_RES_UNIQUE (by unique id) reports it.
public struct GearmanJobStatus: Equatable, Sendable {
    /// The handle (STATUS_RES) or the unique id (STATUS_RES_UNIQUE) asked about.
    public var id: String
    /// The server knows the job (queued or running).
    public var known: Bool
    public var running: Bool
    public var numerator: Int
    public var denominator: Int
    /// How many clients wait on the job (STATUS_RES_UNIQUE only).
    public var clientCount: Int?

    public init(id: String, known: Bool, running: Bool, numerator: Int, denominator: Int, clientCount: Int? = nil) {
        self.id = id
        self.known = known
        self.running = running
        self.numerator = numerator
        self.denominator = denominator
        self.clientCount = clientCount
    }
}

/// Field helpers shared by the typed request and response codecs.
enum Field {
    static let maxHandleLength = 64

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func handle(_ bytes: [UInt8]) throws(GearmanError) -> String {
        guard bytes.count <= maxHandleLength else { throw .handleTooLong(length: bytes.count) }
        return text(bytes)
    }

    static func number(_ bytes: [UInt8], _ type: GearmanPacketType, argument: Int) throws(GearmanError) -> Int {
        guard !bytes.isEmpty, bytes.count <= 18, bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw .invalidNumber(type, argument: argument)
        }
        return bytes.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    static func flag(_ bytes: [UInt8], _ type: GearmanPacketType, argument: Int) throws(GearmanError) -> Bool {
        try number(bytes, type, argument: argument) != 0
    }
}
