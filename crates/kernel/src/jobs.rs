//! Background jobs: what a module asks to run on its own schedule (reminders, checks,
//! pruning, escalation). Each job is safe with several instances running it (it claims
//! or keys what it does), so every instance runs every job.

use crate::{App, Result};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// One run of a job: how many things it did (reminders queued, rows pruned, alerts raised).
pub type Run = fn(App) -> Pin<Box<dyn Future<Output = Result<u64>> + Send>>;

#[derive(Clone, Copy)]
pub struct Job {
    /// A stable name, for the logs.
    pub name: &'static str,
    pub every: Duration,
    /// What a run that did something is logged as.
    pub done: &'static str,
    /// Whether a run that did something is a warning (an alert raised, an escalation).
    pub warns: bool,
    pub run: Run,
}

impl Job {
    pub const fn new(name: &'static str, every: Duration, done: &'static str, run: Run) -> Self {
        Self { name, every, done, warns: false, run }
    }

    /// Logs a run that did something as a warning.
    pub const fn warns(mut self) -> Self {
        self.warns = true;
        self
    }
}

/// Every 15 seconds, every minute, every hour.
pub const TICK: Duration = Duration::from_secs(15);
pub const MINUTE: Duration = Duration::from_secs(60);
pub const HOUR: Duration = Duration::from_secs(3600);

/// Runs each job on its own schedule, the first run at once; a slow job delays no other.
pub fn spawn(app: &App, jobs: impl IntoIterator<Item = Job>) {
    for job in jobs {
        let app = app.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(job.every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match (job.run)(app.clone()).await {
                    Ok(0) => {}
                    Ok(n) if job.warns => tracing::warn!(job = job.name, count = n, "{}", job.done),
                    Ok(n) => tracing::info!(job = job.name, count = n, "{}", job.done),
                    Err(e) => tracing::error!(job = job.name, error = %e, "a background job failed"),
                }
            }
        });
    }
}
