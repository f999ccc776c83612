//! Leader election on a `coordination.k8s.io/v1` Lease, with plain get/create/replace:
//! optimistic concurrency (resourceVersion) makes two candidates never both win.

use std::time::Duration;

use k8s_openapi::{
    api::coordination::v1::{Lease, LeaseSpec},
    apimachinery::pkg::apis::meta::v1::MicroTime,
};
use kube::{
    Api, Client,
    api::{ObjectMeta, PostParams},
};

const LEASE_DURATION: Duration = Duration::from_secs(15);
const RETRY_PERIOD: Duration = Duration::from_secs(2);
const RENEW_PERIOD: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    #[error("lease {name} could not be read or written")]
    Api {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("lease {name} was lost to {holder}")]
    Lost { name: String, holder: String },
}

pub struct LeaderElector {
    api: Api<Lease>,
    name: String,
    identity: String,
}

fn now() -> MicroTime {
    MicroTime(jiff::Timestamp::now())
}

impl LeaderElector {
    pub fn new(client: Client, namespace: &str, name: &str) -> Self {
        let host = std::env::var("POD_NAME")
            .or_else(|_| std::env::var("HOSTNAME"))
            .unwrap_or_else(|_| "dashboard-user-operator".into());
        let identity = format!("{host}_{:08x}", rand::random::<u32>());
        Self {
            api: Api::namespaced(client, namespace),
            name: name.into(),
            identity,
        }
    }

    pub fn identity(&self) -> &str {
        &self.identity
    }

    fn err(&self, source: kube::Error) -> LeaderError {
        LeaderError::Api {
            name: self.name.clone(),
            source,
        }
    }

    /// One attempt: true when we hold the lease afterwards.
    async fn try_acquire_or_renew(&self) -> Result<bool, LeaderError> {
        let dur = LEASE_DURATION.as_secs() as i32;
        let Some(mut lease) = self
            .api
            .get_opt(&self.name)
            .await
            .map_err(|e| self.err(e))?
        else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    ..Default::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.identity.clone()),
                    lease_duration_seconds: Some(dur),
                    acquire_time: Some(now()),
                    renew_time: Some(now()),
                    lease_transitions: Some(0),
                    ..Default::default()
                }),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                Err(e) => Err(self.err(e)),
            };
        };
        let spec = lease.spec.get_or_insert_with(Default::default);
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let mine = holder == self.identity;
        let expired = match &spec.renew_time {
            None => true,
            Some(t) => {
                let d = spec.lease_duration_seconds.unwrap_or(dur).max(1) as i64;
                t.0.as_second() + d < jiff::Timestamp::now().as_second()
            }
        };
        if !mine && !holder.is_empty() && !expired {
            return Ok(false);
        }
        if !mine {
            spec.acquire_time = Some(now());
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
        }
        spec.holder_identity = Some(self.identity.clone());
        spec.lease_duration_seconds = Some(dur);
        spec.renew_time = Some(now());
        // replace carries the resourceVersion we read: a concurrent winner makes it 409.
        match self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Waits until this process holds the lease.
    pub async fn acquire(&self) {
        loop {
            match self.try_acquire_or_renew().await {
                Ok(true) => return,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "leader election attempt failed"),
            }
            tokio::time::sleep(RETRY_PERIOD).await;
        }
    }

    /// Renews until a renewal is impossible for a whole lease duration; then returns
    /// the reason. The caller must stop acting as leader.
    pub async fn hold(&self) -> LeaderError {
        let mut last_ok = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(RENEW_PERIOD).await;
            match self.try_acquire_or_renew().await {
                Ok(true) => last_ok = tokio::time::Instant::now(),
                Ok(false) => {
                    let holder = self
                        .api
                        .get_opt(&self.name)
                        .await
                        .ok()
                        .flatten()
                        .and_then(|l| l.spec?.holder_identity)
                        .unwrap_or_default();
                    return LeaderError::Lost {
                        name: self.name.clone(),
                        holder,
                    };
                }
                Err(e) if last_ok.elapsed() > LEASE_DURATION => return e,
                Err(e) => tracing::warn!(error = %e, "lease renewal failed, retrying"),
            }
        }
    }

    /// Gives the lease up on graceful shutdown so a successor need not wait for expiry.
    pub async fn release(&self) {
        if let Ok(Some(mut lease)) = self.api.get_opt(&self.name).await
            && let Some(spec) = lease.spec.as_mut()
            && spec.holder_identity.as_deref() == Some(&self.identity)
        {
            spec.holder_identity = None;
            spec.renew_time = None;
            let _ = self
                .api
                .replace(&self.name, &PostParams::default(), &lease)
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_holder_at_a_time_and_release_hands_over() {
        let emu = kube_emulator::Emulator::start(Default::default())
            .await
            .unwrap();
        let client = emu.client().await;
        let a = LeaderElector::new(client.clone(), "default", "op-lease");
        let b = LeaderElector::new(client.clone(), "default", "op-lease");
        assert_ne!(a.identity(), b.identity());
        assert!(
            a.try_acquire_or_renew().await.unwrap(),
            "first candidate creates the lease"
        );
        assert!(
            !b.try_acquire_or_renew().await.unwrap(),
            "a live lease is not taken"
        );
        assert!(a.try_acquire_or_renew().await.unwrap(), "the holder renews");
        a.release().await;
        assert!(
            b.try_acquire_or_renew().await.unwrap(),
            "a released lease is taken"
        );
        let lease: Lease = Api::namespaced(client, "default")
            .get("op-lease")
            .await
            .unwrap();
        let spec = lease.spec.unwrap();
        assert_eq!(spec.holder_identity.as_deref(), Some(b.identity()));
        assert_eq!(spec.lease_transitions, Some(1));
        emu.shutdown().await;
    }
}
