//! What each typed request does: its upstream call and its test-number answer, in one place,
//! so an endpoint only parses its input (and search redaction cannot be forgotten).

use std::future::Future;

use serde::Serialize;

use crate::error::UpstreamError;
use crate::verify::client::VerifyClient;
use crate::verify::secrets::Credentials;
use crate::verify::test_numbers::TestNumbers;
use crate::verify::types::{
    CheckRequest, CheckResponse, ControlRequest, ControlResponse, HasStatus, SearchRequest,
    SearchResponse, StartRequest, StartResponse,
};
use crate::verify::values::{Number, RequestId};

pub trait Call: Send + Sync {
    type Response: Serialize + HasStatus + Send;

    /// The phone number involved, if any (logged masked).
    fn number(&self) -> Option<&Number> {
        None
    }

    /// An answer given without calling Verify (configured test numbers); `None` normally.
    fn test_answer(&self, numbers: &TestNumbers) -> Option<Self::Response>;

    fn send(
        &self,
        client: &VerifyClient,
        creds: &Credentials,
    ) -> impl Future<Output = Result<Self::Response, UpstreamError>> + Send;
}

impl Call for StartRequest {
    type Response = StartResponse;

    fn number(&self) -> Option<&Number> {
        Some(&self.number)
    }

    fn test_answer(&self, numbers: &TestNumbers) -> Option<StartResponse> {
        numbers.start(&self.number)
    }

    async fn send(
        &self,
        client: &VerifyClient,
        creds: &Credentials,
    ) -> Result<StartResponse, UpstreamError> {
        let answer = client.start(creds, self).await?;
        // A started verification the app cannot check is no success; nor one whose id the
        // proxy would refuse on /check (`"in"`, a v2 id that is no UUID).
        if answer.status == "0" {
            match answer.request_id.as_deref() {
                None | Some("") => return Err(UpstreamError::Incomplete("request_id")),
                Some(id) if RequestId::parse(id).is_err() => {
                    return Err(UpstreamError::Mismatch("a request_id of no known shape"));
                }
                Some(_) => {}
            }
        }
        Ok(answer)
    }
}

impl Call for CheckRequest {
    type Response = CheckResponse;

    fn test_answer(&self, numbers: &TestNumbers) -> Option<CheckResponse> {
        numbers.check(&self.request_id, &self.code)
    }

    async fn send(
        &self,
        client: &VerifyClient,
        creds: &Credentials,
    ) -> Result<CheckResponse, UpstreamError> {
        let answer = client.check(creds, self).await?;
        // A success about another verification must not become a token for this one.
        let other = answer
            .request_id
            .as_deref()
            .is_some_and(|id| !id.eq_ignore_ascii_case(self.request_id.as_str()));
        if answer.status == "0" && other {
            return Err(UpstreamError::Mismatch("another request"));
        }
        Ok(answer)
    }
}

impl Call for ControlRequest {
    type Response = ControlResponse;

    fn test_answer(&self, numbers: &TestNumbers) -> Option<ControlResponse> {
        numbers.control(&self.request_id, self.cmd)
    }

    async fn send(
        &self,
        client: &VerifyClient,
        creds: &Credentials,
    ) -> Result<ControlResponse, UpstreamError> {
        let mut answer = client.control(creds, self).await?;
        // Node-proxy clients may read `command`; Verify's success always names it, and names
        // the one asked for.
        if answer.status == "0" {
            match answer.command.as_deref() {
                None => answer.command = Some(self.cmd.as_str().to_string()),
                Some(c) if c != self.cmd.as_str() => {
                    return Err(UpstreamError::Mismatch("the other command"));
                }
                Some(_) => {}
            }
        }
        Ok(answer)
    }
}

impl Call for SearchRequest {
    type Response = SearchResponse;

    /// Test verifications are not searchable: their ids go upstream, which knows none of them.
    fn test_answer(&self, _numbers: &TestNumbers) -> Option<SearchResponse> {
        None
    }

    /// Only records of the ids asked for, the number masked and typed codes removed: a
    /// leaked request_id is no oracle.
    async fn send(
        &self,
        client: &VerifyClient,
        creds: &Credentials,
    ) -> Result<SearchResponse, UpstreamError> {
        let answer = client.search(creds, self).await?;
        Ok(answer.about(&self.request_ids)?.redacted())
    }
}
