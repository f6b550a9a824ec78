//! The server's side of the board: the Stage values from the field metadata, Zoho's totals per
//! Stage (COQL), each column's first cards (a search per Stage, all at once), and a move as an
//! update of the record's Stage.

use serde_json::{Map, Value};
use zoho::crm::metadata::ModuleName;
use zoho::crm::records::{Criterion, Operator, Search};

use super::{Module, Records};
use crate::AppError;
use crate::records::board::{BoardColumn, BoardDto, CARDS_PER_PAGE, Card, CardsPage, MoveOutcome};

/// The field a board's columns are, the one its cards' money is in, and what a card shows.
const STAGE: &str = "Stage";
const AMOUNT: &str = "Amount";
const CARD_FIELDS: [&str; 4] = ["Deal_Name", AMOUNT, "Account_Name", "Closing_Date"];

/// Whether this user may write the Stage (Zoho marks a field read-only per profile).
fn stage_editable(fields: &[zoho::crm::metadata::FieldInfo]) -> bool {
    fields.iter().any(|f| f.api_name == STAGE && !f.read_only)
}

fn name(s: &str) -> Result<ModuleName, AppError> {
    ModuleName::parse(s).ok_or(AppError::Internal)
}

impl Records {
    /// The module, when it can be a board: it has a Stage picklist.
    async fn board_module(&self, module: &str) -> Result<(Module, Vec<String>, String), AppError> {
        let m = self.module(module).await?;
        let stage = m
            .fields
            .iter()
            .find(|f| f.api_name == STAGE && f.data_type == "picklist")
            .ok_or_else(|| {
                AppError::BadRequest(format!(
                    "{} have no Stage to make a board of.",
                    m.info.plural
                ))
            })?;
        let values = stage
            .pick_list_values
            .iter()
            .map(|v| v.actual_value.clone())
            .collect();
        let label = stage.field_label.clone();
        Ok((m, values, label))
    }

    pub async fn board(&self, module: &str) -> Result<BoardDto, AppError> {
        let (m, stages, field_label) = self.board_module(module).await?;
        let crm = &self.zoho.crm;
        let (stage_field, amount_field) = (name(STAGE)?, name(AMOUNT)?);
        let (totals, currency) = tokio::join!(
            crm.group_totals(&self.conn, &m.name, &stage_field, &amount_field),
            crm.org_cached(&self.conn)
        );
        let totals = &totals?;
        let m = &m;
        let columns = futures::future::join_all(stages.iter().map(|stage| async move {
            let page = self.stage_cards(m, stage, 1).await?;
            let (count, sum) = totals
                .iter()
                .find(|t| t.value.as_deref() == Some(stage.as_str()))
                .map_or((0, 0.0), |t| (t.count, t.sum));
            Ok::<_, AppError>(BoardColumn {
                stage: stage.clone(),
                count,
                sum,
                cards: page.cards,
                more: page.more,
            })
        }))
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
        Ok(BoardDto {
            module: m.info.clone(),
            field_label,
            columns,
            currency: currency.ok().and_then(|o| o.currency.clone()),
        })
    }

    pub async fn cards(&self, module: &str, stage: &str, page: u32) -> Result<CardsPage, AppError> {
        let (m, stages, _) = self.board_module(module).await?;
        if !stages.iter().any(|s| s == stage) {
            return Err(AppError::BadRequest("There is no such stage.".into()));
        }
        self.stage_cards(&m, stage, page).await
    }

    /// Page `page` of the cards at `stage`.
    async fn stage_cards(&self, m: &Module, stage: &str, page: u32) -> Result<CardsPage, AppError> {
        let search = Search::Criteria {
            conditions: vec![Criterion {
                field: STAGE.into(),
                operator: Operator::Equals,
                value: stage.to_owned(),
            }],
            any: false,
        };
        let found = self
            .zoho
            .crm
            .search(
                &self.conn,
                &m.name,
                &search,
                page.max(1),
                CARDS_PER_PAGE,
                &CARD_FIELDS,
            )
            .await?;
        Ok(CardsPage {
            more: found.more,
            cards: found
                .rows
                .into_iter()
                .map(|r| {
                    let mut cells = r.cells.into_iter();
                    let mut next = || cells.next().unwrap_or_default();
                    Card {
                        id: r.id,
                        name: next(),
                        amount: next(),
                        account: next(),
                        closing: next(),
                    }
                })
                .collect(),
        })
    }

    pub async fn move_card(
        &self,
        module: &str,
        id: &str,
        stage: &str,
        from: Option<&str>,
    ) -> Result<MoveOutcome, AppError> {
        let (m, stages, _) = self.board_module(module).await?;
        if !stages.iter().any(|s| s == stage) {
            return Err(AppError::BadRequest("There is no such stage.".into()));
        }
        // As the form does: a field read-only for this user is not written (Zoho would answer
        // "success" and leave it as it was).
        if !stage_editable(&m.fields) {
            return Ok(MoveOutcome::Refused {
                message: "Stage is read-only for you in Zoho: the deal stays where it was.".into(),
            });
        }
        if let Some(from) = from {
            // As a form's save: Zoho's Stage now, never as read before, against the board's.
            let Some(now) = self.zoho.crm.record_now(&self.conn, &m.name, id).await? else {
                return Ok(MoveOutcome::Gone);
            };
            let current = now.get(STAGE).and_then(Value::as_str).unwrap_or_default();
            if current == stage {
                return Ok(MoveOutcome::Moved);
            }
            if current != from {
                return Ok(MoveOutcome::Elsewhere {
                    stage: current.to_owned(),
                    by: super::modified_by(&now),
                });
            }
        }
        let mut fields = Map::new();
        fields.insert(STAGE.into(), Value::String(stage.to_owned()));
        Ok(
            match self
                .zoho
                .crm
                .update(&self.conn, &m.name, id, fields)
                .await?
            {
                Ok(()) => MoveOutcome::Moved,
                Err(e) => MoveOutcome::Refused {
                    message: format!("Zoho did not move it: {}", e.message),
                },
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use zoho::crm::metadata::FieldInfo;

    use super::*;

    fn stage(read_only: bool) -> FieldInfo {
        serde_json::from_value(serde_json::json!({
            "api_name": STAGE, "field_label": "Stage", "data_type": "picklist",
            "read_only": read_only,
        }))
        .expect("a field")
    }

    #[test]
    fn a_card_moves_only_where_the_user_may_write_the_stage() {
        assert!(stage_editable(&[stage(false)]));
        assert!(
            !stage_editable(&[stage(true)]),
            "read-only for this profile"
        );
        assert!(!stage_editable(&[]));
    }
}
