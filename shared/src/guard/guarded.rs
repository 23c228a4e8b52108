//! What the guard does around each kind of call: `admit` before it (refusals cost nothing
//! upstream), `settle` after it with Verify's answer (test-number answers included).

use std::future::Future;
use std::net::IpAddr;

use super::{Guard, Record, Seen, Subject};
use crate::error::ProxyError;
use crate::verify::Call;
use crate::verify::Command;
use crate::verify::types::{CheckRequest, ControlRequest, HasStatus, SearchRequest, StartRequest};

pub trait Guarded: Call {
    type Ticket: Send + Sync;

    /// Fills `seen` with what it learns, refusal or not.
    fn admit(
        &self,
        guard: &Guard,
        ip: Option<IpAddr>,
        seen: &mut Seen,
    ) -> impl Future<Output = Result<Self::Ticket, ProxyError>> + Send;

    /// May turn an answer into a refusal (a concurrent start is never echoed).
    fn settle(
        &self,
        guard: &Guard,
        ticket: Self::Ticket,
        response: &Self::Response,
    ) -> impl Future<Output = Result<(), ProxyError>> + Send;
}

impl Guarded for StartRequest {
    /// The subject, the `Retry-After` a concurrent start gets, and the cooldown it claimed.
    type Ticket = (Subject, u64, Option<i64>);

    async fn admit(
        &self,
        guard: &Guard,
        ip: Option<IpAddr>,
        seen: &mut Seen,
    ) -> Result<(Subject, u64, Option<i64>), ProxyError> {
        let subject = guard.subject(&self.number, ip);
        seen.number = Some(self.number.clone());
        seen.number_digest = Some(Guard::log_digest(&subject.number));
        seen.calling_code = Some(subject.calling_code.clone());
        let admitted = guard.admit_start(&subject).await?;
        seen.spend_month = admitted.spend_month;
        Ok((subject, admitted.retry_after, admitted.cooldown_until))
    }

    async fn settle(
        &self,
        guard: &Guard,
        (subject, retry, cooldown): (Subject, u64, Option<i64>),
        response: &Self::Response,
    ) -> Result<(), ProxyError> {
        match (response.status(), &response.request_id) {
            ("0", Some(id)) => {
                guard.started(&subject, id).await;
                Ok(())
            }
            // Status 10 carries the live request's id: handing it to any caller would let
            // them check or cancel someone else's verification.
            ("10", _) => Err(ProxyError::AlreadySent { retry_after: retry }),
            _ => {
                guard.not_sent(&subject, cooldown).await;
                Ok(())
            }
        }
    }
}

impl Guarded for CheckRequest {
    type Ticket = Option<(Record, String)>;

    async fn admit(
        &self,
        guard: &Guard,
        ip: Option<IpAddr>,
        seen: &mut Seen,
    ) -> Result<Option<(Record, String)>, ProxyError> {
        let Some(record) = guard.known(self.request_id.as_str()).await? else {
            return Ok(None); // store down and configured to fail open
        };
        guard.see_record(seen, &record, self.request_id.as_str());
        let ip = guard.hasher.ip(ip);
        guard.admit_check(&record, &ip).await?;
        Ok(Some((record, ip)))
    }

    async fn settle(
        &self,
        guard: &Guard,
        ticket: Option<(Record, String)>,
        response: &Self::Response,
    ) -> Result<(), ProxyError> {
        if let Some((record, ip)) = ticket {
            guard
                .checked_code(self.request_id.as_str(), &record, &ip, response.status())
                .await;
        }
        Ok(())
    }
}

impl Guarded for ControlRequest {
    type Ticket = ();

    async fn admit(
        &self,
        guard: &Guard,
        ip: Option<IpAddr>,
        seen: &mut Seen,
    ) -> Result<(), ProxyError> {
        let Some(record) = guard.known(self.request_id.as_str()).await? else {
            return Ok(());
        };
        guard.see_record(seen, &record, self.request_id.as_str());
        if self.cmd == Command::TriggerNextEvent {
            let subject = guard.subject_of(&record, ip);
            guard
                .admit_trigger(&subject, self.request_id.as_str())
                .await?;
        }
        Ok(())
    }

    async fn settle(&self, _: &Guard, _: (), _: &Self::Response) -> Result<(), ProxyError> {
        Ok(())
    }
}

impl Guarded for SearchRequest {
    type Ticket = ();

    /// Every id must be one this deployment issued.
    async fn admit(
        &self,
        guard: &Guard,
        _ip: Option<IpAddr>,
        _seen: &mut Seen,
    ) -> Result<(), ProxyError> {
        for id in &self.request_ids {
            match guard.known(id.as_str()).await {
                Err(ProxyError::UnknownRequest) => return Err(ProxyError::NoSuchRequest),
                other => other.map(|_| ())?,
            }
        }
        Ok(())
    }

    async fn settle(&self, _: &Guard, _: (), _: &Self::Response) -> Result<(), ProxyError> {
        Ok(())
    }
}
