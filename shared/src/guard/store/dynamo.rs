//! The DynamoDB store: one on-demand table, partition key `pk` only, TTL attribute `exp`
//! (epoch seconds). Every operation is one item call; counters are a single `UpdateItem`
//! with `ADD` (atomic, no transactions on hot counters), gates and sets conditional ones.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::key;
use super::{Lock, Record, Store, StoreError};

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

type Item = HashMap<String, AttributeValue>;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}
fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}
/// TTL attributes are epoch seconds.
fn ttl(exp_ms: i64) -> AttributeValue {
    n(exp_ms.div_euclid(1000) + 1)
}
fn num(item: &Item, name: &str) -> Option<i64> {
    match item.get(name)? {
        AttributeValue::N(v) => v.parse().ok(),
        _ => None,
    }
}
fn text(item: &Item, name: &str) -> String {
    match item.get(name) {
        Some(AttributeValue::S(v)) => v.clone(),
        _ => String::new(),
    }
}
/// Expired but not yet deleted by TTL: absent.
fn live(item: &Item, now: i64) -> bool {
    num(item, "exp").is_none_or(|exp| exp * 1000 > now)
}
fn err<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    StoreError(DisplayErrorContext(e).to_string())
}

/// A conditional `UpdateItem`: true when it wrote, false when its condition did not hold.
fn written<T, R>(result: Result<T, SdkError<UpdateItemError, R>>) -> Result<bool, StoreError>
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(UpdateItemError::is_conditional_check_failed_exception) =>
        {
            Ok(false)
        }
        Err(e) => Err(err(e)),
    }
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn get(&self, pk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(err)?;
        Ok(out.item)
    }

    /// One `UpdateItem` on the counter `n` (`:v` and `:exp` bound), returning its new value.
    async fn update_counter(
        &self,
        key: &str,
        expression: &str,
        value: i64,
        exp: i64,
    ) -> Result<i64, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .update_expression(expression)
            .expression_attribute_names("#exp", "exp")
            .expression_attribute_values(":v", n(value))
            .expression_attribute_values(":exp", ttl(exp))
            // ALL_NEW, not UPDATED_NEW: an ADD of 0 changes nothing, and nothing would come back.
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(err)?;
        out.attributes
            .as_ref()
            .and_then(|a| num(a, "n"))
            .ok_or_else(|| StoreError("UpdateItem returned no counter".into()))
    }
}

impl Store for DynamoStore {
    async fn add(&self, key: &str, delta: i64, _now: i64, exp: i64) -> Result<i64, StoreError> {
        self.update_counter(key, "ADD n :v SET #exp = :exp", delta, exp)
            .await
    }

    async fn add_member(
        &self,
        key: &str,
        member: &str,
        max: usize,
        _now: i64,
        exp: i64,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .update_expression("ADD m :set SET #exp = :exp")
            .condition_expression(
                "attribute_not_exists(m) OR contains(m, :member) OR size(m) < :max",
            )
            .expression_attribute_names("#exp", "exp")
            .expression_attribute_values(":set", AttributeValue::Ss(vec![member.to_string()]))
            .expression_attribute_values(":member", s(member))
            .expression_attribute_values(":max", n(max as i64))
            .expression_attribute_values(":exp", ttl(exp))
            .send()
            .await;
        written(result)
    }

    async fn claim(&self, key: &str, now: i64, until: i64) -> Result<Result<(), i64>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .update_expression("SET u = :until, #exp = :exp")
            .condition_expression("attribute_not_exists(u) OR u <= :now")
            .expression_attribute_names("#exp", "exp")
            .expression_attribute_values(":until", n(until))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", ttl(until))
            .send()
            .await;
        if written(result)? {
            return Ok(Ok(()));
        }
        let open_at = self.get(key).await?.and_then(|i| num(&i, "u"));
        Ok(Err(open_at.unwrap_or(now + 1000)))
    }

    async fn release(&self, key: &str, until: i64) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key))
            .update_expression("SET u = :open")
            .condition_expression("u = :until")
            .expression_attribute_values(":open", n(0))
            .expression_attribute_values(":until", n(until))
            .send()
            .await;
        written(result)
    }

    async fn get_lock(&self, key: &str, now: i64) -> Result<Option<Lock>, StoreError> {
        Ok(self.get(key).await?.filter(|i| live(i, now)).map(|i| Lock {
            until: num(&i, "u").unwrap_or(0),
            strikes: num(&i, "s").unwrap_or(0).clamp(0, u32::MAX as i64) as u32,
        }))
    }

    async fn set_lock(&self, key: &str, lock: Lock, exp: i64) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(key))
            .item("u", n(lock.until))
            .item("s", n(i64::from(lock.strikes)))
            .item("exp", ttl(exp.max(lock.until)))
            .send()
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn put_record(&self, id: &str, r: &Record, exp: i64) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&key::record(id)))
            .item("rn", s(&r.number))
            .item("rs", s(&r.sealed))
            .item("rr", s(&r.range))
            .item("rc", s(&r.calling_code))
            .item("ri", s(&r.ip))
            .item("rt", n(r.created_at))
            .item("rv", AttributeValue::Bool(r.verified))
            .item("exp", ttl(exp))
            .send()
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn get_record(&self, id: &str, now: i64) -> Result<Option<Record>, StoreError> {
        let item = self.get(&key::record(id)).await?;
        Ok(item.filter(|i| live(i, now)).map(|i| Record {
            number: text(&i, "rn"),
            sealed: text(&i, "rs"),
            range: text(&i, "rr"),
            calling_code: text(&i, "rc"),
            ip: text(&i, "ri"),
            created_at: num(&i, "rt").unwrap_or(0),
            verified: matches!(i.get("rv"), Some(AttributeValue::Bool(true))),
            outcome: i
                .get("ro")
                .and_then(|v| v.as_s().ok())
                .map(|o| (o.clone(), num(&i, "rf").unwrap_or(0))),
        }))
    }

    async fn mark_verified(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&key::record(id)))
            .update_expression("SET rv = :t")
            .condition_expression("attribute_exists(pk) AND rv = :f AND #exp > :now")
            .expression_attribute_names("#exp", "exp")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .expression_attribute_values(":f", AttributeValue::Bool(false))
            .expression_attribute_values(":now", n(now.div_euclid(1000)))
            .send()
            .await;
        written(result)
    }

    async fn finish(&self, id: &str, outcome: &str, at: i64, now: i64) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&key::record(id)))
            .update_expression("SET ro = :o, rf = :at")
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(ro) AND #exp > :now",
            )
            .expression_attribute_names("#exp", "exp")
            .expression_attribute_values(":o", s(outcome))
            .expression_attribute_values(":at", n(at))
            .expression_attribute_values(":now", n(now.div_euclid(1000)))
            .send()
            .await;
        written(result)
    }

    async fn first_value(&self, key: &str, value: i64, exp: i64) -> Result<i64, StoreError> {
        let expr = "SET n = if_not_exists(n, :v), #exp = if_not_exists(#exp, :exp)";
        self.update_counter(key, expr, value, exp).await
    }
}
