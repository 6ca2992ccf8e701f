//! The console's local time zone, resolved once.
//!
//! Why not `jiff::tz::TimeZone::system()` alone: with `TZ` unset it names the zone from the
//! `/etc/localtime` link (`Etc/UTC`) and looks that name up in the zoneinfo database, whose
//! first lookup lists every file under `/usr/share/zoneinfo` (about 60 folders, 250 system
//! calls) to match names without regard to case. That listing was on the first frame's path
//! (the header's clock). `/etc/localtime` is itself the zone's TZif file, so it is read
//! directly; with `TZ` set (a name, a path or a POSIX rule) jiff resolves it as before.

use std::sync::OnceLock;

use jiff::tz::TimeZone;

const LOCALTIME: &str = "/etc/localtime";

/// The zone the header clock and the time-of-day stamps are shown in.
pub fn local_zone() -> &'static TimeZone {
    static ZONE: OnceLock<TimeZone> = OnceLock::new();
    ZONE.get_or_init(|| {
        if std::env::var_os("TZ").is_none()
            && let Some(zone) = from_localtime_file()
        {
            return zone;
        }
        TimeZone::system()
    })
}

/// `/etc/localtime` read as a TZif file, named as its link into the zoneinfo folder names it.
fn from_localtime_file() -> Option<TimeZone> {
    let data = std::fs::read(LOCALTIME).ok()?;
    let link = std::fs::read_link(LOCALTIME).ok();
    let name = link
        .as_ref()
        .and_then(|target| target.to_str())
        .and_then(|target| target.split_once("zoneinfo/"))
        .map_or("localtime", |(_, name)| name);
    TimeZone::tzif(name, &data).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The zone read here tells the same time as jiff's own resolution of the system's zone.
    #[test]
    fn the_local_zone_tells_the_time_the_system_zone_does() {
        let now = jiff::Timestamp::now();
        let ours = now.to_zoned(local_zone().clone());
        let jiffs = now.to_zoned(TimeZone::system());
        assert_eq!(ours.offset(), jiffs.offset());
        assert_eq!(ours.datetime(), jiffs.datetime());
    }
}
