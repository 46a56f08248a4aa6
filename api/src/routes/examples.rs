//! The documented example of every request body, in one place: each is
//! the JSON a caller would send, read by `body_example!` the way the server
//! reads a body, and sent to a running server by `tests/api/examples.rs`,
//! which expects it accepted. Ids in them are the seeded records'
//! (derived from their slugs), so that they hold on every deployment.

use super::{
    admin::{CalendarDayWrite, StaffCreate, StaffPatch},
    applications::{ApplicationCreate, ApplicationUpdate, DisburseBody, ReviewBody, StartReviewBody},
    auth::{ClientCredentialsForm, RefreshRequest, StaffLogin, WechatLogin},
    certificates::CertificateFetch,
    complaints::{ComplaintCreate, ComplaintReply},
    follow_ups::FollowUpClose,
    integrations::WebhookEndpoint,
    me::{PhoneBinding, ProfileUpdate},
    payees::PayeeAccountWrite,
    payments::BankAnswerBody,
    personal_data::RevealBody,
    policies::{PolicyUpdate, PolicyWrite, VersionCheck},
    programs::{ProgramUpdate, ProgramWrite},
    ratings::RatingWrite,
    recommendations::{ConsentWrite, OfferBatch},
    transfers::{MaterialsAnswer, StepUpdate, TransferRequest},
    wage_reports::{InspectorActionBody, Supplement, WageReportCreate},
    window::{ApplicationClaim, ConsentCodeRequest, WindowFilingCreate},
};

crate::body_example!(WechatLogin, {
    "code": "0a3Kq4Ga1Xx0kI0bJ1Ga1Hh8Ga1Kq4G8"
});

crate::body_example!(RefreshRequest, {
    "refresh_token": "rt_9fQ2mX7wLk3vB8nT5cY1zR4hJ6dP0sA"
});

crate::body_example!(StaffLogin, {
    "username": "jiangning.reviewer",
    "password": "correct-horse-battery"
});

crate::body_example!(ClientCredentialsForm, {
    "grant_type": "client_credentials",
    "client_id": "ci_jiangning_shebao",
    "client_secret": "cs_7hV2qLm9XwR4tB6nZ8kD3fJ5",
    "scope": "si_transfer:read si_transfer:write"
});

crate::body_example!(ProfileUpdate, {
    "real_name": "韦小宝",
    "id_number": "450102198801011235",
    "hukou_region_code": "450102",
    "hukou_type": "agricultural",
    "residence_region_code": "450102",
    "work_region_code": "450102",
    "consent_version": "2026-11"
});

crate::body_example!(PhoneBinding, {
    "code": "e31968a7f94cc5ee25fafc2aef2773f0bb8c3937b22520eb8ee345274d00c144"
});

crate::body_example!(StaffCreate, {
    "username": "jiangning.reviewer",
    "display_name": "江宁区审核员",
    "password": "correct-horse-battery",
    "roles": [
        "reviewer",
        "inspector"
    ],
    "region_code": "320115"
});

crate::body_example!(CalendarDayWrite, {
    "kind": "holiday",
    "name": "元旦"
});

crate::body_example!(StaffPatch, {
    "display_name": "兴宁区审核员（社保）",
    "roles": [
        "reviewer",
        "inspector"
    ]
});

crate::body_example!(PolicyWrite, {
    "title": "兴宁区农民工就业创业扶持政策",
    "summary": "在兴宁区就业创业的农民工可享受职业介绍、技能培训和创业补贴。",
    "body": "一、适用对象：在兴宁区就业或创业的农民工。\n二、扶持内容：免费职业介绍，补贴性职业技能培训，首次创业一次性补贴。\n三、办理方式：携带身份证到区人社局或在小程序中申请。",
    "category": "employment",
    "region_code": "450102",
    "issuer": "南宁市兴宁区人力资源和社会保障局",
    "doc_number": "兴人社发〔2026〕12号",
    "issued_on": "2026-03-01",
    "effective_from": "2026-04-01",
    "effective_until": "2028-12-31",
    "source_url": "https://www.nnxn.gov.cn/zwgk/rsxx/",
    "tags": [
        "就业",
        "创业补贴"
    ],
    "audience_tags": [
        "返乡农民工"
    ]
});

crate::body_example!(PolicyUpdate, {
    "expected_version": 1,
    "title": "兴宁区农民工就业创业扶持政策",
    "summary": "在兴宁区就业创业的农民工可享受职业介绍、技能培训和创业补贴。",
    "body": "一、适用对象：在兴宁区就业或创业的农民工。\n二、扶持内容：免费职业介绍，补贴性职业技能培训，首次创业一次性补贴。\n三、办理方式：携带身份证到区人社局或在小程序中申请。",
    "category": "employment",
    "region_code": "450102",
    "issuer": "南宁市兴宁区人力资源和社会保障局",
    "doc_number": "兴人社发〔2026〕12号",
    "issued_on": "2026-03-01",
    "effective_from": "2026-04-01",
    "effective_until": "2028-12-31",
    "source_url": "https://www.nnxn.gov.cn/zwgk/rsxx/",
    "tags": [
        "就业",
        "创业补贴"
    ],
    "audience_tags": [
        "返乡农民工"
    ]
});

crate::body_example!(VersionCheck, {
    "expected_version": 1
});

crate::body_example!(ProgramWrite, {
    "name": "兴宁区农民工稳岗就业补贴",
    "kind": "employment_subsidy",
    "region_code": "450102",
    "description": "在兴宁区稳定就业的农民工，一次性补贴800元。金额为示例，以各地公布标准为准。",
    "amount_rule": {
        "type": "fixed",
        "amount_fen": 80000
    },
    "criteria": [
        {
            "type": "lives_or_works_in_region"
        }
    ],
    "required_documents": [
        {
            "kind": "id_card",
            "label": "身份证正反面照片"
        }
    ],
    "form_fields": [
        {
            "key": "employer_name",
            "label": "用人单位名称",
            "kind": "text",
            "required": true
        }
    ],
    "opens_on": "2026-01-01",
    "closes_on": "2026-12-31",
    "period": "2026",
    "budget_fen": 48000000,
    "quota": 600
});

crate::body_example!(ProgramUpdate, {
    "expected_version": 1,
    "name": "兴宁区农民工稳岗就业补贴",
    "kind": "employment_subsidy",
    "region_code": "450102",
    "description": "在兴宁区稳定就业的农民工，一次性补贴800元。金额为示例，以各地公布标准为准。",
    "amount_rule": {
        "type": "fixed",
        "amount_fen": 80000
    },
    "criteria": [
        {
            "type": "lives_or_works_in_region"
        }
    ],
    "required_documents": [
        {
            "kind": "id_card",
            "label": "身份证正反面照片"
        }
    ],
    "form_fields": [
        {
            "key": "employer_name",
            "label": "用人单位名称",
            "kind": "text",
            "required": true
        }
    ],
    "opens_on": "2026-01-01",
    "closes_on": "2026-12-31",
    "period": "2026",
    "budget_fen": 48000000,
    "quota": 600
});

crate::body_example!(ApplicationCreate, {
    "program_id": "4762127f-72c6-5f98-af72-4ff79f609e99",
    "answers": {
        "returning_worker": true,
        "business_name": "兴宁米粉店",
        "business_registered_on": "2025-01-15",
        "employees": 4
    },
    "attachment_ids": [],
    "submit": false
});

crate::body_example!(ApplicationUpdate, {
    "expected_version": 1,
    "answers": {
        "returning_worker": true,
        "business_name": "兴宁米粉店",
        "business_registered_on": "2025-01-15",
        "employees": 5
    },
    "attachment_ids": []
});

crate::body_example!(ReviewBody, {
    "decision": "approve",
    "comment": "材料齐全，符合条件。",
    "expected_version": 2
});

crate::body_example!(StartReviewBody, {
    "expected_version": 2
});

crate::body_example!(DisburseBody, {
    "amount_fen": 500000,
    "reference": "GXNX-20261130-000123",
    "expected_version": 3
});

crate::body_example!(TransferRequest, {
    "insurance_type": "medical",
    "from_region_code": "450102",
    "to_region_code": "320115"
});

crate::body_example!(StepUpdate, {
    "status": "done",
    "occurred_at": "2026-11-20T09:00:00+08:00",
    "note": "已受理，材料齐全。"
});

crate::body_example!(MaterialsAnswer, {
    "answer": "已于12月2日将参保缴费凭证原件交到转入地社保大厅3号窗口。"
});

crate::body_example!(WebhookEndpoint, {
    "url": "https://shebao.example.gov.cn/shiminhua/events"
});

crate::body_example!(WageReportCreate, {
    "employer_name": "南宁某建筑劳务有限公司",
    "employer_credit_code": "91450102MA5L2Q8C1L",
    "project_name": "兴宁区安置房二期",
    "work_region_code": "450102",
    "sector": "construction",
    "amount_owed_fen": 1250000,
    "owed_from": "2026-06-01",
    "owed_to": "2026-09-30",
    "workers_affected": 3,
    "description": "6月到9月的工资一直没有发，包工头说甲方没给钱。",
    "attachment_ids": [],
    "contact_phone": "13812345678"
});

crate::body_example!(Supplement, {
    "text": "补充：工地考勤记录和工资条照片已上传。",
    "attachment_ids": []
});

crate::body_example!(InspectorActionBody, {
    "action": "accept",
    "comment": "受理，联系用人单位核实。",
    "expected_version": 1
});

crate::body_example!(PayeeAccountWrite, {
    "kind": "bank_card",
    "bank_name": "中国工商银行",
    "account_number": "6222021234567890128",
    "consent_version": "payee-2026-11"
});

crate::body_example!(BankAnswerBody, {
    "outcome": "paid",
    "bank_reference": "ICBC-20261130-000123"
});

crate::body_example!(RevealBody, {
    "reason": "核对身份证照片与填写的身份证号是否一致"
});

crate::body_example!(RatingWrite, {
    "score": 2,
    "tags": ["slow_reply", "many_trips"],
    "comment": "材料交了三次才齐，每次只说缺一样。"
});

crate::body_example!(FollowUpClose, {
    "what_was_done": "已电话回访本人，致歉并说明了补齐材料的要求；窗口已改为一次性告知所需材料。"
});

crate::body_example!(ComplaintCreate, {
    "kind": "complaint",
    "region_code": "450102",
    "text": "兴宁区人社局窗口中午十二点前就不收材料了，和公示的时间不一致。"
});

crate::body_example!(ComplaintReply, {
    "reply": "经核查情况属实，已要求窗口严格按公示时间办理，并对相关人员进行了批评教育。感谢您的监督。"
});

crate::body_example!(ConsentWrite, {
    "consent_version": "recommend-2026-12"
});

crate::body_example!(OfferBatch, {
    "offer_ids": ["0b9a7f5e-3c1d-4e8a-9f2b-6d4c8e1a2b3c"]
});

crate::body_example!(ConsentCodeRequest, {
    "phone": "13877001234"
});

crate::body_example!(WindowFilingCreate, {
    "window_name": "兴宁区政务服务中心人社窗口",
    "applicant": {
        "name": "韦小宝",
        "id_number": "450102199001010132",
        "phone": "13877001234",
        "hukou_type": "agricultural",
        "residence_region_code": "450102",
        "work_region_code": "450102"
    },
    "identity_check": "id_card_reader",
    "consent": {"code": "407215"},
    "program_id": "e47b366e-0322-577a-9549-9ebdba1ea165",
    "answers": {
        "certificate_level": 4,
        "training_institution": "南宁市第一职业技能培训学校"
    },
    "attachment_ids": []
});

crate::body_example!(ApplicationClaim, {
    "code": "K7M2-Q9XP-4HTD"
});

crate::body_example!(CertificateFetch, {
    "kind": "vocational",
    "authorization_version": "certificate-2026-12"
});
