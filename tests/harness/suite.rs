//! The reusable lifecycle suite every provider runs against its peer:
//! list → create → stop → start → suspend/resume → force off → reboot → rename → tag → destroy,
//! skipping what the provider's capabilities say it lacks.
//!
//! With a stateful peer (moto, libvirt's test driver, podman) every step is checked by
//! listing again and waiting for the expected state. With a stateless peer (Prism, fixture
//! replay: fixed example answers) each call must simply succeed; the peer itself validates
//! the requests.

use skydeck_core::model::{Action, CreateMachine, Machine, MachineState, Tags};
use skydeck_core::provider::{Provider, ProviderSpec};
use std::time::{Duration, Instant};

pub struct Lifecycle<'a> {
    pub spec: &'static ProviderSpec,
    pub driver: &'a dyn Provider,
    /// True when the peer keeps state, so results can be verified by listing again.
    pub stateful: bool,
    /// What to create; `None` skips the create step (then `target` or the first listed
    /// machine is used).
    pub create: Option<CreateMachine>,
    /// The machine to act on when nothing is created.
    pub target: Option<String>,
    /// How long to wait for a transition on a stateful peer.
    pub settle: Duration,
}

/// Which steps ran and which were skipped (and why), for the test's own assertions.
#[derive(Debug, Default)]
pub struct Report {
    pub ran: Vec<&'static str>,
    pub skipped: Vec<(&'static str, &'static str)>,
    pub listed: usize,
    pub machine_id: Option<String>,
}

impl Report {
    pub fn ran(&self, step: &str) -> bool {
        self.ran.contains(&step)
    }
}

impl<'a> Lifecycle<'a> {
    pub fn new(spec: &'static ProviderSpec, driver: &'a dyn Provider, stateful: bool) -> Self {
        Lifecycle { spec, driver, stateful, create: None, target: None, settle: Duration::from_secs(30) }
    }

    async fn list(&self) -> Vec<Machine> {
        let mut ms = self.driver.list_machines().await.unwrap_or_else(|e| panic!("{}: list failed: {} {e}", self.spec.id, e.code()));
        self.spec.finish("suite", &mut ms);
        ms
    }

    async fn find(&self, id: &str) -> Option<Machine> {
        self.list().await.into_iter().find(|m| m.id == id)
    }

    /// Polls until `pred` holds for the machine (or it is gone when `pred` accepts None).
    async fn wait_for(&self, id: &str, what: &str, pred: impl Fn(Option<&Machine>) -> bool) -> Option<Machine> {
        let deadline = Instant::now() + self.settle;
        loop {
            let m = self.find(id).await;
            if pred(m.as_ref()) {
                return m;
            }
            if Instant::now() > deadline {
                panic!("{}: machine {id} never became {what}; last seen: {:?}", self.spec.id, m.map(|m| (m.state, m.raw_state)));
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    async fn act(&self, m: &Machine, action: Action, expect: MachineState, report: &mut Report, step: &'static str) -> Machine {
        self.driver
            .machine_action(m, action)
            .await
            .unwrap_or_else(|e| panic!("{}: {step} failed: {} {e}", self.spec.id, e.code()));
        report.ran.push(step);
        if !self.stateful {
            return m.clone();
        }
        self.wait_for(&m.id, expect.as_str(), |x| x.is_some_and(|x| x.state == expect)).await.unwrap()
    }

    pub async fn run(self) -> Report {
        let caps = self.spec.capabilities;
        let mut report = Report::default();

        let listed = self.list().await;
        report.listed = listed.len();
        report.ran.push("list");
        for m in &listed {
            assert!(!m.id.is_empty(), "{}: a listed machine has no id", self.spec.id);
            assert_eq!(m.provider, self.spec.id);
        }

        // Create, or pick a machine to work on.
        let mut machine = match (&self.create, caps.create) {
            (Some(req), true) => {
                let created = self
                    .driver
                    .create_machine(req)
                    .await
                    .unwrap_or_else(|e| panic!("{}: create failed: {} {e}", self.spec.id, e.code()));
                report.ran.push("create");
                assert!(!created.id.is_empty(), "{}: create returned no id", self.spec.id);
                if self.stateful {
                    self.wait_for(&created.id, "running", |m| m.is_some_and(|m| m.state == MachineState::Running)).await.unwrap()
                } else {
                    let mut c = created;
                    self.spec.finish("suite", std::slice::from_mut(&mut c));
                    c
                }
            }
            (_, false) => {
                report.skipped.push(("create", "capabilities.create is false"));
                self.pick(&listed)
            }
            (None, true) => {
                report.skipped.push(("create", "no create request given"));
                self.pick(&listed)
            }
        };
        report.machine_id = Some(machine.id.clone());

        // On a stateless peer the example's state decides nothing: act anyway.
        if caps.stop {
            machine = self.act(&machine, Action::Stop, MachineState::Stopped, &mut report, "stop").await;
        } else {
            report.skipped.push(("stop", "capabilities.stop is false"));
        }
        if caps.start {
            machine = self.act(&machine, Action::Start, MachineState::Running, &mut report, "start").await;
        } else {
            report.skipped.push(("start", "capabilities.start is false"));
        }
        if caps.suspend {
            machine = self.act(&machine, Action::Suspend, MachineState::Suspended, &mut report, "suspend").await;
            machine = self.act(&machine, Action::Resume, MachineState::Running, &mut report, "resume").await;
        } else {
            report.skipped.push(("suspend", "capabilities.suspend is false"));
        }
        if caps.force_off {
            machine = self.act(&machine, Action::ForceOff, MachineState::Stopped, &mut report, "force_off").await;
            if caps.start {
                machine = self.act(&machine, Action::Start, MachineState::Running, &mut report, "start-after-force-off").await;
            }
        } else {
            report.skipped.push(("force_off", "capabilities.force_off is false"));
        }
        if caps.reboot {
            machine = self.act(&machine, Action::Reboot, MachineState::Running, &mut report, "reboot").await;
        } else {
            report.skipped.push(("reboot", "capabilities.reboot is false"));
        }

        if caps.rename {
            let new_name = format!("{}-renamed", machine.name.chars().take(40).collect::<String>().replace(' ', "-"));
            match self.driver.rename(&machine, &new_name).await {
                Ok(()) => {}
                // Some providers rename only while stopped (libvirt): stop, rename, start.
                Err(e) if e.code() == "conflict" && self.stateful && caps.stop => {
                    machine = self.act(&machine, Action::Stop, MachineState::Stopped, &mut report, "stop-for-rename").await;
                    self.driver.rename(&machine, &new_name).await.unwrap_or_else(|e| panic!("{}: rename failed: {e}", self.spec.id));
                }
                Err(e) => panic!("{}: rename failed: {} {e}", self.spec.id, e.code()),
            }
            report.ran.push("rename");
            if self.stateful {
                machine = self.wait_for(&machine.id, "renamed", |m| m.is_some_and(|m| m.name == new_name)).await.unwrap();
            }
        } else {
            report.skipped.push(("rename", "capabilities.rename is false"));
        }

        if caps.tag {
            let mut tags: Tags = machine.tags.clone();
            tags.insert("suite".into(), "lifecycle".into());
            self.driver.set_tags(&machine, &tags).await.unwrap_or_else(|e| panic!("{}: tag failed: {} {e}", self.spec.id, e.code()));
            report.ran.push("tag");
            if self.stateful {
                machine = self
                    .wait_for(&machine.id, "tagged", |m| m.is_some_and(|m| m.tags.get("suite").map(String::as_str) == Some("lifecycle")))
                    .await
                    .unwrap();
            }
        } else {
            report.skipped.push(("tag", "capabilities.tag is false"));
        }

        if caps.destroy {
            self.driver
                .machine_action(&machine, Action::Destroy)
                .await
                .unwrap_or_else(|e| panic!("{}: destroy failed: {} {e}", self.spec.id, e.code()));
            report.ran.push("destroy");
            if self.stateful {
                self.wait_for(&machine.id, "gone or terminated", |m| m.is_none_or(|m| m.state == MachineState::Terminated)).await;
            }
        } else {
            report.skipped.push(("destroy", "capabilities.destroy is false"));
        }
        report
    }

    fn pick(&self, listed: &[Machine]) -> Machine {
        match &self.target {
            Some(id) => listed.iter().find(|m| &m.id == id).cloned().unwrap_or_else(|| panic!("{}: target {id} not listed", self.spec.id)),
            None => listed.first().cloned().unwrap_or_else(|| panic!("{}: nothing listed to act on", self.spec.id)),
        }
    }
}
