"""The glossary: every English name used in code, with the Japanese term users read.

docs/glossary.md lists the same entries (a test keeps them in step).
"""

from __future__ import annotations

GLOSSARY: dict[str, str] = {
    "insurer_number": "保険者番号",
    "symbol": "記号",
    "number": "番号",
    "branch": "枝番",
    "insured": "被保険者",
    "dependent": "被扶養者",
    "relationship": "続柄（本人・家族）",
    "employer": "事業所",
    "member": "加入者",
    "eligible_from": "資格取得日",
    "lost_on": "資格喪失日（資格がない最初の日）",
    "loss_reason": "喪失事由",
    "extraction_date": "抽出日",
    "notice": "資格情報のお知らせ（資格情報通知書）",
    "certificate": "資格確認書",
    "copay_rate": "負担割合",
    "cap_category": "限度額適用区分",
    "standard_monthly_pay": "標準報酬月額",
    "tax_exempt": "住民税非課税",
    "voluntary_continuation": "任意継続",
    "institution_code": "医療機関コード",
    "my_number": "個人番号（マイナンバー）",
    "my_number_status": "個人番号の登録状況",
    "blind_index": "個人番号の照合用ハッシュ（HMAC）",
    "mynacard": "マイナ保険証",
    "ecert_expires_on": "電子証明書の有効期限",
    "old_card": "健康保険証（従来の保険証）",
    "delivery": "送付先（事業所経由・自宅）",
    "hand_out": "配付",
    "returned": "返戻（届かなかった封筒）",
    "application": "資格確認書の交付申請",
    "returned_on": "資格確認書の返却日（その日から無効）",
    "import_run": "取込",
    "error_report": "エラー一覧",
    # Words that mean one thing each (issue 19)
    "check": "資格確認（医療機関・薬局からの照会、checkers が答える）",
    "console": "管理画面（職員の画面と事業所ポータル、webconsole）",
    "terminal": "コマンドの画面出力（Rich、shikaku.terminal）",
    "worker": "発行の並列処理を行う Dask のワーカー",
    "parser_process": "取込でファイルを解析する子プロセス",
}
