//! The listener: accepts connections, hands each to a task, and shuts down gracefully — stop
//! accepting, let in-flight requests finish, then flush and close every log.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::BrokerConfig;
use crate::connection::serve_connection;
use crate::coordinator::GroupCoordinator;
use crate::topics::{TopicError, TopicRegistry};

/// What every request handler can reach. Shared by all connections.
#[derive(Debug)]
pub struct BrokerContext {
    /// The settings the broker started with.
    pub config: BrokerConfig,
    /// Host and port advertised to clients.
    pub advertised: (String, u16),
    /// Topics and their logs.
    pub topics: TopicRegistry,
    /// Producer id allocation for idempotent producers.
    pub producer_ids: crate::api::init_producer_id::ProducerIds,
    /// Prometheus metrics.
    pub metrics: crate::metrics::BrokerMetrics,
    /// Committed offsets.
    pub coordinator: GroupCoordinator,
    /// Transactional ids and their transactions.
    pub transactions: crate::transactions::TransactionCoordinator,
    /// Requests refused for lack of a feature, logged once each.
    pub refusals: crate::refusals::Refusals,
}

/// A running broker.
#[derive(Debug)]
pub struct Broker {
    local_addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    context: Arc<BrokerContext>,
}

/// Starting the broker failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The data directory could not be opened.
    #[error("cannot open data directory: {0}")]
    Storage(#[from] TopicError),
}

impl Broker {
    /// Opens the data directory, binds the listener and starts serving.
    pub async fn start(config: BrokerConfig) -> Result<Broker, StartError> {
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
        let data_dir = config.data_dir.clone();
        let defaults = config.log_defaults.clone();
        let offsets_partitions = config.offsets_topic_partitions;
        let classic_settings = crate::coordinator::membership::Settings {
            initial_delay: config.group_initial_rebalance_delay,
            min_session: config.group_min_session_timeout,
            max_session: config.group_max_session_timeout,
        };
        let consumer_settings = config.consumer_groups.clone();
        let txn_settings = config.transactions.clone();
        let (topics, coordinator, transactions) = tokio::task::spawn_blocking(move || {
            let topics = TopicRegistry::open(data_dir, defaults)?;
            let coordinator = GroupCoordinator::start(
                &topics,
                offsets_partitions,
                classic_settings,
                consumer_settings,
            )?;
            let transactions = crate::transactions::TransactionCoordinator::start(
                &topics,
                &coordinator,
                txn_settings,
            )?;
            Ok::<_, TopicError>((topics, coordinator, transactions))
        })
        .await
        .expect("opening the registry does not panic")?;
        let advertised = config
            .advertised
            .clone()
            .unwrap_or_else(|| (local_addr.ip().to_string(), local_addr.port()));
        let context = Arc::new(BrokerContext {
            config,
            advertised,
            topics,
            producer_ids: Default::default(),
            metrics: Default::default(),
            coordinator,
            transactions,
            refusals: Default::default(),
        });
        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut metrics_addr = None;
        if let Some(addr) = context.config.metrics_listen {
            let metrics_listener = TcpListener::bind(addr)
                .await
                .map_err(|source| StartError::Bind { addr, source })?;
            metrics_addr = metrics_listener.local_addr().ok();
            tokio::spawn(crate::metrics::serve(
                metrics_listener,
                context.clone(),
                shutdown_rx.clone(),
            ));
        }
        tokio::spawn(crate::maintenance::run(
            context.clone(),
            shutdown_rx.clone(),
        ));
        tokio::spawn(crate::maintenance::run_transactions(
            context.clone(),
            shutdown_rx.clone(),
        ));
        tokio::spawn(group_ticks(context.clone(), shutdown_rx.clone()));
        let task = tokio::spawn(accept_loop(listener, context.clone(), shutdown_rx));
        tracing::info!(%local_addr, ?metrics_addr, "broker listening");
        Ok(Broker {
            local_addr,
            metrics_addr,
            shutdown,
            task,
            context,
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The bound `/metrics` address, when metrics are served.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Shared state, for embedding and tests.
    pub fn context(&self) -> &Arc<BrokerContext> {
        &self.context
    }

    /// Stops accepting, waits for connections to finish their current request, then flushes
    /// and closes every log (writing clean-shutdown markers).
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
        let context = self.context.clone();
        let _ = tokio::task::spawn_blocking(move || context.topics.close_all()).await;
        tracing::info!("broker stopped");
    }
}

/// Drives group timeouts (sessions, rebalances, the initial delay).
async fn group_ticks(context: Arc<BrokerContext>, mut shutdown: watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(std::time::Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = interval.tick() => {
                for group in context.coordinator.membership.tick() {
                    context.coordinator.store_group(&group);
                }
                context.coordinator.consumer_groups.tick();
            }
            _ = shutdown.changed() => return,
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    context: Arc<BrokerContext>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(serve_connection(stream, peer, context.clone(), shutdown.clone()));
                }
                Err(e) => tracing::warn!(error = %e, "accept failed"),
            },
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}
