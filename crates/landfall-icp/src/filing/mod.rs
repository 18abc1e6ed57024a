//! Filing: the record of what is filed ([`record`]), the filing state machine with its history
//! ([`state`]), and the working-day timeline estimate ([`timeline`]).

pub mod record;
pub mod state;
pub mod timeline;

pub use record::{
    AccessProvider, AppService, CertificateType, Entity, EntityNature, FieldRejection, FiledDomain,
    FilingRecord, IdType, LegalRepresentative, Ownership, Person, Platform, PlatformBuild,
    PreApproval, Sdk,
};
pub use state::{
    allowed_events, target_state, EventKind, Filing, FilingEvent, FilingState, HistoryEntry,
    OrderKind, Rejection, RejectionStage, SmsFailure, TransitionError,
};
pub use timeline::{china_date, estimate, Stage, StageEstimate, Timeline, TimelineWindows, Window};
