/// The packet types of Gearman's binary protocol (gearmand 1.1's numbering). Each type fixes
/// how many NUL-separated arguments its data holds and which side may send it; the parser
/// checks both, so a peer cannot make us read a type the other way round.
public enum GearmanPacketType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case canDo = 1
    case cantDo = 2
    case resetAbilities = 3
    case preSleep = 4
    // 5 is unused: never sent, read as garbage.
    case noop = 6
    case submitJob = 7
    case jobCreated = 8
    case grabJob = 9
    case noJob = 10
    case jobAssign = 11
    case workStatus = 12
    case workComplete = 13
    case workFail = 14
    case getStatus = 15
    case echoReq = 16
    case echoRes = 17
    case submitJobBackground = 18
    case error = 19
    case statusRes = 20
    case submitJobHigh = 21
    case setClientID = 22
    case canDoTimeout = 23
    case allYours = 24
    case workException = 25
    case optionReq = 26
    case optionRes = 27
    case workData = 28
    case workWarning = 29
    case grabJobUniq = 30
    case jobAssignUniq = 31
    case submitJobHighBackground = 32
    case submitJobLow = 33
    case submitJobLowBackground = 34
    case submitJobSched = 35
    case submitJobEpoch = 36
    case submitReduceJob = 37
    case submitReduceJobBackground = 38
    case grabJobAll = 39
    case jobAssignAll = 40
    case getStatusUnique = 41
    case statusResUnique = 42

    /// How many arguments the data holds: all but the last end in a NUL; the last runs to the
    /// end of the data and may itself hold NULs (a payload, a result). 0: the data is empty.
    public var argumentCount: Int {
        switch self {
        case .resetAbilities, .preSleep, .noop, .grabJob, .noJob, .allYours, .grabJobUniq, .grabJobAll: 0
        case .canDo, .cantDo, .jobCreated, .workFail, .getStatus, .echoReq, .echoRes, .setClientID,
             .optionReq, .optionRes, .getStatusUnique: 1
        case .workComplete, .error, .canDoTimeout, .workException, .workData, .workWarning: 2
        case .submitJob, .jobAssign, .workStatus, .submitJobBackground, .submitJobHigh,
             .submitJobHighBackground, .submitJobLow, .submitJobLowBackground: 3
        case .jobAssignUniq, .submitJobEpoch: 4
        case .statusRes, .submitReduceJob, .submitReduceJobBackground, .jobAssignAll: 5
        case .statusResUnique: 6
        case .submitJobSched: 8
        }
    }

    /// Whether a client or worker sends this to the server (`\0REQ`).
    public var isRequest: Bool {
        switch self {
        case .noop, .jobCreated, .noJob, .jobAssign, .echoRes, .error, .statusRes, .optionRes,
             .jobAssignUniq, .jobAssignAll, .statusResUnique: false
        default: true
        }
    }

    /// Whether the server sends this to a client or worker (`\0RES`). The WORK_* packets go
    /// both ways: a worker reports them, the server forwards them to a waiting client.
    public var isResponse: Bool {
        switch self {
        case .workStatus, .workComplete, .workFail, .workException, .workData, .workWarning: true
        default: !isRequest
        }
    }

    /// The protocol's name for the type, as gearmand's docs and logs spell it.
    public var description: String {
        switch self {
        case .canDo: "CAN_DO"
        case .cantDo: "CANT_DO"
        case .resetAbilities: "RESET_ABILITIES"
        case .preSleep: "PRE_SLEEP"
        case .noop: "NOOP"
        case .submitJob: "SUBMIT_JOB"
        case .jobCreated: "JOB_CREATED"
        case .grabJob: "GRAB_JOB"
        case .noJob: "NO_JOB"
        case .jobAssign: "JOB_ASSIGN"
        case .workStatus: "WORK_STATUS"
        case .workComplete: "WORK_COMPLETE"
        case .workFail: "WORK_FAIL"
        case .getStatus: "GET_STATUS"
        case .echoReq: "ECHO_REQ"
        case .echoRes: "ECHO_RES"
        case .submitJobBackground: "SUBMIT_JOB_BG"
        case .error: "ERROR"
        case .statusRes: "STATUS_RES"
        case .submitJobHigh: "SUBMIT_JOB_HIGH"
        case .setClientID: "SET_CLIENT_ID"
        case .canDoTimeout: "CAN_DO_TIMEOUT"
        case .allYours: "ALL_YOURS"
        case .workException: "WORK_EXCEPTION"
        case .optionReq: "OPTION_REQ"
        case .optionRes: "OPTION_RES"
        case .workData: "WORK_DATA"
        case .workWarning: "WORK_WARNING"
        case .grabJobUniq: "GRAB_JOB_UNIQ"
        case .jobAssignUniq: "JOB_ASSIGN_UNIQ"
        case .submitJobHighBackground: "SUBMIT_JOB_HIGH_BG"
        case .submitJobLow: "SUBMIT_JOB_LOW"
        case .submitJobLowBackground: "SUBMIT_JOB_LOW_BG"
        case .submitJobSched: "SUBMIT_JOB_SCHED"
        case .submitJobEpoch: "SUBMIT_JOB_EPOCH"
        case .submitReduceJob: "SUBMIT_REDUCE_JOB"
        case .submitReduceJobBackground: "SUBMIT_REDUCE_JOB_BACKGROUND"
        case .grabJobAll: "GRAB_JOB_ALL"
        case .jobAssignAll: "JOB_ASSIGN_ALL"
        case .getStatusUnique: "GET_STATUS_UNIQUE"
        case .statusResUnique: "STATUS_RES_UNIQUE"
        }
    }
}
