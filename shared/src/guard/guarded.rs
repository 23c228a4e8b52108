//! What the guard does around each kind of call: `admit` before it (refusals cost nothing
//! upstream), `settle` after it with Verify's answer (test-number answers included).

use std::future::Future;

use super::budgets;
use super::rules::datetime;
use super::{Admitted, Guard, Record, Seen, Source, Subject};
use crate::error::{ProxyError, UpstreamError};
use crate::verify::Call;
use crate::verify::Command;
use crate::verify::types::{
    CheckRequest, ControlRequest, HasStatus, SearchRecord, SearchRequest, SearchResponse,
    StartRequest, StartResponse, TokenUse,
};

pub trait Guarded: Call {
    type Ticket: Send + Sync;

    /// Fills `seen` with what it learns, refusal or not.
    fn admit(
        &self,
        guard: &Guard,
        from: &Source,
        seen: &mut Seen,
    ) -> impl Future<Output = Result<Self::Ticket, ProxyError>> + Send;

    /// An answer from what the guard recorded, instead of an upstream call: a start's own
    /// live request repeated, and v2's search, which Verify v2 does not have (`v2_lifetime_ms`:
    /// how long a v2 verification can live; none with v1). `None`: call.
    fn recorded(
        &self,
        _guard: &Guard,
        _ticket: &Self::Ticket,
        _v2_lifetime_ms: Option<i64>,
    ) -> Option<Result<Self::Response, ProxyError>> {
        None
    }

    /// The caller's `Idempotency-Key`; endpoints other than a start ignore it (the draft lets
    /// a server do so for requests that are idempotent anyway).
    fn set_idempotency_key(&mut self, _key: String) {}

    /// The authenticated caller (`api-key:ID`, an IAM principal); only a start keeps it.
    fn set_caller(&mut self, _caller: &str) {}

    /// The App Check token the call came with; only a start counts (and may spend) it.
    fn set_app_token(&mut self, _token: &TokenUse) {}

    /// When the call failed: what the admission counted goes back if nothing was sent.
    fn unsent(
        &self,
        _guard: &Guard,
        _ticket: Self::Ticket,
        _error: &ProxyError,
    ) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// May turn an answer into a refusal (a concurrent start is never echoed).
    fn settle(
        &self,
        guard: &Guard,
        ticket: Self::Ticket,
        response: &Self::Response,
    ) -> impl Future<Output = Result<(), ProxyError>> + Send;
}

impl Guarded for StartRequest {
    /// The subject and what its admission charged.
    type Ticket = (Subject, Admitted);

    async fn admit(
        &self,
        guard: &Guard,
        from: &Source,
        seen: &mut Seen,
    ) -> Result<(Subject, Admitted), ProxyError> {
        let mut subject = guard
            .subject_from(&self.number, from)
            .with_workflow(self.shape.deliveries, self.shape.lifetime_ms)
            .with_calls(self.shape.calls);
        if let Some(caller) = &self.caller {
            subject.caller = guard.caller_digest(caller);
        }
        if let Some(token) = &self.app_token {
            // Spent before the verdict: one limited-use token is one attempt, admitted or not.
            if token.spend && !token.limited_use {
                return Err(ProxyError::Unauthorized {
                    reason: "app_check_not_limited_use",
                });
            }
            subject.token = guard.token_digest(&token.id);
            if token.spend
                && !guard
                    .first_token_use(&subject.token, token.expires_ms)
                    .await
            {
                return Err(ProxyError::Unauthorized {
                    reason: "app_check_replayed",
                });
            }
        }
        if let Some(key) = &self.idempotency_key {
            let body = format!(
                "{}|{}|{:?}|{:?}|{:?}",
                self.number.digits(),
                self.brand,
                self.options,
                self.channel,
                self.sender_id
            );
            subject = guard.with_idempotency(subject, key, &body);
        }
        seen.number = Some(self.number.clone());
        seen.number_digest = Some(Guard::log_digest(&subject.number));
        seen.calling_code = Some(subject.calling_code.clone());
        let admitted = guard.admit_start(&subject).await?;
        seen.spend_month = admitted.spend_month;
        seen.replayed = admitted.replay.is_some();
        Ok((subject, admitted))
    }

    fn recorded(
        &self,
        _guard: &Guard,
        (_, admitted): &(Subject, Admitted),
        _v2_lifetime_ms: Option<i64>,
    ) -> Option<Result<StartResponse, ProxyError>> {
        admitted.replay.as_ref().map(|id| {
            Ok(StartResponse {
                request_id: Some(id.clone()),
                status: "0".into(),
                ..StartResponse::default()
            })
        })
    }

    fn set_idempotency_key(&mut self, key: String) {
        self.idempotency_key = Some(key);
    }

    fn set_caller(&mut self, caller: &str) {
        self.caller = Some(caller.to_string());
    }

    fn set_app_token(&mut self, token: &TokenUse) {
        self.app_token = Some(token.clone());
    }

    async fn unsent(&self, guard: &Guard, (_, admitted): (Subject, Admitted), e: &ProxyError) {
        match e.certainly_unsent() {
            true => guard.not_sent(&admitted).await,
            false => guard.outcome_unknown(&admitted).await,
        }
    }

    async fn settle(
        &self,
        guard: &Guard,
        (subject, admitted): (Subject, Admitted),
        response: &Self::Response,
    ) -> Result<(), ProxyError> {
        if admitted.replay.is_some() {
            return Ok(()); // nothing was sent, and the record is there
        }
        match (response.status(), &response.request_id) {
            ("0", Some(id)) => {
                guard.started(&subject, &admitted, id).await;
                Ok(())
            }
            // Status 10 carries the live request's id: handing it to any caller would let
            // them check or cancel someone else's verification.
            ("10", _) => {
                guard.concurrent(&admitted).await;
                Err(ProxyError::AlreadySent {
                    retry_after: admitted.retry_after,
                })
            }
            _ => {
                guard.not_sent(&admitted).await;
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
        from: &Source,
        seen: &mut Seen,
    ) -> Result<Option<(Record, String)>, ProxyError> {
        let Some(record) = guard.known(self.request_id.as_str()).await? else {
            return Ok(None); // store down and configured to fail open
        };
        guard.see_record(seen, &record, self.request_id.as_str());
        let ip = guard.source_of(from);
        guard
            .admit_check(&record, self.request_id.as_str(), &ip)
            .await?;
        Ok(Some((record, ip)))
    }

    async fn settle(
        &self,
        guard: &Guard,
        ticket: Option<(Record, String)>,
        response: &Self::Response,
    ) -> Result<(), ProxyError> {
        if let Some((record, ip)) = ticket {
            let billed = budgets::billed(response.price.as_deref(), response.currency.as_deref());
            guard
                .checked_code(
                    self.request_id.as_str(),
                    &record,
                    &ip,
                    response.status(),
                    billed,
                )
                .await;
        }
        Ok(())
    }
}

impl Guarded for ControlRequest {
    type Ticket = ();

    async fn admit(&self, guard: &Guard, from: &Source, seen: &mut Seen) -> Result<(), ProxyError> {
        let Some(record) = guard.known(self.request_id.as_str()).await? else {
            return Ok(());
        };
        guard.see_record(seen, &record, self.request_id.as_str());
        if self.cmd == Command::TriggerNextEvent {
            let subject = guard.subject_of(&record, from);
            guard
                .admit_trigger(&subject, &record, self.request_id.as_str())
                .await?;
        }
        Ok(())
    }

    /// A cancel that worked is the request's outcome (v2 search reports it).
    async fn settle(
        &self,
        guard: &Guard,
        _: (),
        response: &Self::Response,
    ) -> Result<(), ProxyError> {
        if self.cmd == Command::Cancel && response.status() == "0" {
            guard
                .finished(self.request_id.as_str(), "CANCELLED", guard.now())
                .await;
        }
        Ok(())
    }
}

impl Guarded for SearchRequest {
    /// Each id's record (`None` when the store is down and configured to fail open).
    type Ticket = Vec<Option<Record>>;

    /// Every id must be one this deployment issued.
    async fn admit(
        &self,
        guard: &Guard,
        _from: &Source,
        _seen: &mut Seen,
    ) -> Result<Vec<Option<Record>>, ProxyError> {
        let mut records = Vec::with_capacity(self.request_ids.len());
        for id in &self.request_ids {
            match guard.known(id.as_str()).await {
                Err(ProxyError::UnknownRequest) => return Err(ProxyError::NoSuchRequest),
                other => records.push(other?),
            }
        }
        Ok(records)
    }

    /// What v2 lets us know: our own calls' outcomes (a right code, too many wrong ones, a
    /// cancel) and those its status events reported; in progress while it can still be. A
    /// finished verification nobody reported is not guessed at: 501.
    fn recorded(
        &self,
        guard: &Guard,
        records: &Vec<Option<Record>>,
        v2_lifetime_ms: Option<i64>,
    ) -> Option<Result<SearchResponse, ProxyError>> {
        let lifetime_ms = v2_lifetime_ms?;
        let now = guard.now();
        let mut out = Vec::with_capacity(records.len());
        for (id, record) in self.request_ids.iter().zip(records) {
            let Some(r) = record else {
                return Some(Err(ProxyError::GuardUnavailable));
            };
            let (status, finalized) = match &r.outcome {
                _ if r.verified => ("SUCCESS".to_string(), r.outcome.as_ref().map(|o| o.1)),
                Some((status, at)) => (status.clone(), Some(*at)),
                None if now < r.created_at + lifetime_ms => ("IN PROGRESS".to_string(), None),
                None => {
                    return Some(Err(ProxyError::Upstream(UpstreamError::NotOffered(
                        "Verify v2 has no search, and no status event was received for this request: its outcome is unknown.",
                    ))));
                }
            };
            out.push(SearchRecord {
                request_id: Some(id.as_str().to_string()),
                number: guard.open(r, id.as_str()).map(|n| n.masked()),
                date_submitted: Some(datetime(r.created_at)),
                date_finalized: finalized.map(datetime),
                status,
                ..SearchRecord::default()
            });
        }
        Some(Ok(match self.request_ids.len() {
            1 => SearchResponse::One(Box::new(out.remove(0))),
            _ => SearchResponse::Many {
                verification_requests: out,
            },
        }))
    }

    async fn settle(
        &self,
        _: &Guard,
        _: Vec<Option<Record>>,
        _: &Self::Response,
    ) -> Result<(), ProxyError> {
        Ok(())
    }
}
