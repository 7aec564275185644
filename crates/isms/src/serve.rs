//! `isms serve`: the listeners, the event receivers and workers, the background jobs and
//! the outbox delivery, and a graceful drain on SIGTERM.

use super::*;

pub(crate) async fn serve(s: Settings, demo: bool) -> Result<()> {
    let started = Instant::now();
    let metrics = if s.metrics {
        Some(metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder().context("installing the metrics recorder")?)
    } else {
        None
    };
    let app = open(&s).await?;
    let public = s.public_url();
    if demo && isms_web::demo(&app).await? {
        tracing::info!("demo group loaded");
    }
    isms_app::assets::categories::ensure_defaults(&app).await?;
    isms_app::incidents::playbooks::ensure_defaults(&app).await?;
    isms_app::compliance::frameworks::ensure_shipped(&app).await?;
    // Time alone makes findings (reviews fall due, exceptions expire, take-outs go
    // unreturned): the whole register is re-checked at start and every six hours. A
    // re-check is idempotent, so two instances doing it at once only repeat work.
    let checker = app.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(6 * 3600));
        loop {
            every.tick().await;
            match isms_app::assets::conformance::recheck_all(&checker, &isms_app::Principal::system()).await {
                Ok(s) => tracing::info!(assets = s.assets, opened = s.opened, resolved = s.resolved, "asset register re-checked"),
                Err(e) => tracing::warn!(error = %e, "asset register re-check failed"),
            }
        }
    });
    let mailer = if s.mail.enabled() {
        let security = match s.mail.security {
            config::MailSecurity::Starttls => isms_app::notify::MailSecurity::Starttls,
            config::MailSecurity::Tls => isms_app::notify::MailSecurity::Tls,
            config::MailSecurity::None => isms_app::notify::MailSecurity::None,
        };
        let m = isms_app::notify::Mailer::new(&isms_app::notify::MailSettings {
            host: s.mail.host.clone(),
            port: s.mail.port,
            security,
            username: s.mail.username.clone(),
            password: s.mail.password.0.clone(),
            from: s.mail.from.clone(),
            timeout: std::time::Duration::from_secs(s.mail.timeout_secs),
        })
        .map_err(anyhow::Error::msg)?;
        Some(m)
    } else {
        None
    };
    let hooks = if s.webhooks.is_empty() {
        None
    } else {
        let targets = s
            .webhooks
            .iter()
            .map(|h| isms_app::notify::HookTarget {
                name: h.name.clone(),
                url: h.url.0.clone(),
                format: match h.format {
                    config::HookFormat::Chat => isms_app::notify::HookFormat::Chat,
                    config::HookFormat::Json => isms_app::notify::HookFormat::Json,
                },
                language: h.language.clone(),
            })
            .collect();
        Some(isms_app::notify::HookSender::new(targets, std::time::Duration::from_secs(15)).map_err(anyhow::Error::msg)?)
    };
    let listener = tokio::net::TcpListener::bind(s.listen).await.with_context(|| format!("listening on {}", s.listen))?;
    let state = isms_web::state(
        app.clone(),
        isms_web::WebConfig {
            public_url: public.clone(),
            max_body_bytes: s.max_body_mib * 1024 * 1024,
            trust_proxy: s.trust_proxy,
            max_event_batch_bytes: s.max_event_batch_mib * 1024 * 1024,
            max_inflight_batches: s.max_inflight_batches,
            metrics_token: Some(s.metrics_token.0.clone()).filter(|t| !t.is_empty()),
        },
        metrics.clone(),
    )
    .map_err(anyhow::Error::msg)?;
    let ingest = isms_monitoring_web::ingest(&state).cloned().context("the monitoring module is not started")?;
    // With NATS: receivers queue batches on JetStream, and this instance is one of the
    // workers that evaluate them.
    if !s.nats_url.is_empty() {
        let bus = std::sync::Arc::new(isms_ingest::bus::Bus::connect(&s.nats_url, &s.nats_stream).await.map_err(anyhow::Error::msg)?);
        let _ = ingest.bus.set(bus.clone());
        let (app, pipeline, wait) = (app.clone(), ingest.pipeline.clone(), std::time::Duration::from_secs(s.nats_ack_wait_secs));
        tokio::spawn(async move {
            if let Err(e) = isms_ingest::bus::run_worker(app, pipeline, bus, wait).await {
                tracing::error!(error = %e, "the JetStream worker stopped");
            }
        });
    }
    let (router, _) = isms_web::router(state.clone());
    if let (Some(addr), Some(handle)) = (s.metrics_listen, metrics.clone()) {
        let l = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("listening for metrics on {addr}"))?;
        tracing::info!(%addr, "metrics listener ready");
        tokio::spawn(async move {
            if let Err(e) = axum::serve(l, isms_web::metrics_router(handle)).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    // Syslog listeners feed the same pipeline as the HTTP receiver. A port that cannot be
    // bound stops the start, naming the address.
    for l in &s.syslog {
        let tls = match (&l.tls_cert, &l.tls_key) {
            (Some(c), Some(k)) if l.transport == "tls" => {
                let cert = std::fs::read(c).with_context(|| format!("syslog tls_cert {}", c.display()))?;
                let key = std::fs::read(k).with_context(|| format!("syslog tls_key {}", k.display()))?;
                Some(isms_ingest::tls_config(&cert, &key).map_err(|e| anyhow::anyhow!("syslog {}: {e}", l.listen))?)
            }
            _ => None,
        };
        let listener = isms_ingest::Listener {
            transport: l.transport.parse().map_err(anyhow::Error::msg)?,
            addr: l.listen,
            source: l.source.clone(),
            max_message: l.max_message_kib * 1024,
            tls,
        };
        let sink = match ingest.bus.get() {
            Some(b) => isms_ingest::Sink::Bus(b.clone()),
            None => isms_ingest::Sink::Pipeline(ingest.pipeline.clone()),
        };
        let bound = isms_ingest::bind(app.clone(), sink, listener).await.map_err(anyhow::Error::msg)?;
        tracing::info!(addr = %bound.local_addr, transport = %l.transport, source = %l.source, "syslog listener ready");
        tokio::spawn(bound.run());
    }
    // Every module's background jobs, each on its own schedule (reminders hourly, the
    // audit checkpoint, silence and escalation every 15 s, feeds as they fall due).
    isms_app::jobs::spawn(&app, isms_web::modules().iter().flat_map(|m| (m.jobs)()));
    // E-mail and webhook events leave the outbox every fifteen seconds; safe with several
    // instances.
    let notifier = app.clone();
    let render = isms_web::notices::MailText { i18n: state.i18n.clone(), public_url: public.clone() };
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(15));
        loop {
            tick.tick().await;
            if let Some(h) = &hooks {
                match isms_app::notify::deliver_hooks(&notifier, h, &render, 200).await {
                    Ok(d) if d.sent + d.failed + d.retrying > 0 => {
                        tracing::info!(sent = d.sent, failed = d.failed, retrying = d.retrying, "webhook events delivered")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "webhook delivery failed"),
                }
            }
            if let Some(m) = &mailer {
                match isms_app::notify::deliver_due(&notifier, m, &render, 200).await {
                    Ok(d) if d.sent + d.failed + d.retrying > 0 => tracing::info!(sent = d.sent, failed = d.failed, retrying = d.retrying, "e-mail delivered"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "e-mail delivery failed"),
                }
            }
        }
    });
    println!("isms is ready at {public}  (started in {} ms)", started.elapsed().as_millis());
    if demo {
        println!("demo accounts (password `{}`):", isms_app::org_demo::DEMO_PASSWORD);
        for (u, role, _) in isms_app::org_demo::ACCOUNTS {
            println!("  {u:<10} {role}{}", if role.is_privileged() { "  (sets up a second factor at first sign-in)" } else { "" });
        }
    }
    if let Some(t) = isms_app::setup::ensure_setup_token(&app).await? {
        println!("no account exists yet: open {public}/setup/{t} to create the first administrator (valid 24 hours)");
    }
    let shutdown_state = state.clone();
    axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            shutdown_state.set_ready(false);
            tracing::info!("shutting down: finishing requests in flight");
        })
        .await?;
    app.store.close().await.ok();
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
