import FPMStatus

extension MasterStateFile.Phase {
    /// The state file's word for process control's phase (FPMStatus knows no `ProcessControl`).
    package init(_ phase: ProcessControl.Phase) {
        switch phase {
        case .starting: self = .starting
        case .running: self = .running
        case .handingOver: self = .handover
        case .finishing: self = .finishing
        case .terminating: self = .terminating
        }
    }
}
