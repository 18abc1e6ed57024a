//! Landfall's domain core: everything the update server decides, with no IO.
//!
//! * [`version`] — the plugin's version rules (`fixSemver`, builtin substitution).
//! * [`plugin`] — the wire shapes the unmodified `@capgo/capacitor-updater` plugin sends and expects.
//! * [`channel`] — channels, their Capgo flags and the bundles they point at.
//! * [`decide`] — the `/updates` decision (channel resolution, flags, key ids, rollouts).
//! * [`names`] — validation of app ids, channel names and bundle version names.
//! * [`clip`] — clipping user input echoed in error messages.
//! * [`bundle_zip`] — the safety checks every uploaded bundle zip must pass.
//! * [`safety`] — automatic release safety: Wilson bounds on failure rates against the baseline.
//! * [`rollout_plan`] — a rollout's scheduled steps and their CLI forms.

pub mod analytics;
pub mod bundle_zip;
pub mod channel;
pub mod clip;
pub mod decide;
pub mod explain;
pub mod names;
pub mod plugin;
pub mod release_log;
pub mod rollout_plan;
pub mod safety;
pub mod version;

pub use clip::{clip, clip_with};
