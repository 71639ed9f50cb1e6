//! `binder list`: the service manager's registry.

use std::collections::BTreeMap;

use binder_rt::service_manager::{DUMP_FLAG_PRIORITY_ALL, IServiceManager};
use binder_rt::{DriverSpec, SpIBinder};
use serde::Serialize;

use crate::device::{self, SmError, status_text};
use crate::table::{Table, opt};
use crate::{CliError, CliResult, print};

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Print a JSON array of {name, interface, pid} instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One registered service.
#[derive(Debug, Serialize)]
struct Entry {
    name: String,
    /// The interface descriptor the service answers with, `null` if it did not answer.
    interface: Option<String>,
    /// The pid that registered it, as the service manager recorded it.
    pid: Option<i32>,
}

pub fn run(spec: &DriverSpec, args: &ListArgs) -> CliResult {
    device::open(spec)?;
    let sm = match device::service_manager_of(spec) {
        Ok(sm) => sm,
        // A device without a service manager has no registered services: say why the list is
        // empty, and list nothing.
        Err(SmError::Missing(why)) => {
            eprintln!("binder: {why}");
            return if args.json { print("[]\n") } else { Ok(()) };
        }
        Err(e) => return Err(e.into()),
    };
    let entries = entries(&*sm, spec)?;
    if args.json {
        let text = serde_json::to_string_pretty(&entries)
            .map_err(|e| CliError::new(format!("cannot format JSON: {e}")))?;
        return print(&(text + "\n"));
    }
    let mut table =
        Table::new("", &["NAME", "INTERFACE", "PID"]).empty_note("(no services registered)");
    for e in entries {
        table.row(vec![
            e.name,
            e.interface.unwrap_or_else(|| "-".to_owned()),
            opt(e.pid),
        ]);
    }
    let mut out = String::new();
    table.render(&mut out);
    print(&out)
}

fn entries(sm: &dyn IServiceManager, spec: &DriverSpec) -> CliResult<Vec<Entry>> {
    let names = sm.list_services(DUMP_FLAG_PRIORITY_ALL).map_err(|s| {
        CliError::new(format!(
            "the service manager on {spec} did not list its services: {}",
            status_text(&s)
        ))
    })?;
    // Older or foreign service managers may not implement getServiceDebugInfo: no pids then.
    let pids: BTreeMap<String, i32> = sm
        .get_service_debug_info()
        .map(|infos| infos.into_iter().map(|i| (i.name, i.debug_pid)).collect())
        .unwrap_or_default();
    Ok(names
        .into_iter()
        .map(|name| {
            let interface = lookup(sm, &name).and_then(|b| b.interface_descriptor().ok());
            Entry {
                pid: pids.get(&name).copied().filter(|&p| p > 0),
                interface,
                name,
            }
        })
        .collect())
}

/// The service registered as `name` now: `checkService2` (Android 16), else `checkService`
/// for service managers that predate it.
fn lookup(sm: &dyn IServiceManager, name: &str) -> Option<SpIBinder> {
    match sm.check_service2(name) {
        Ok(s) => s.into_binder(),
        Err(_) => sm.check_service(name).ok().flatten(),
    }
}
