"""Records (การเก็บรักษาและการทำลายหนังสือ, ระเบียบฯ ข้อ 52–69): the file plan, cases, retention, holds.

Every letter sent or received is a record: it belongs to a case (เรื่อง) of a file (แฟ้ม) in the
organisation's file plan, and has a retention class, from its file or overridden with a reason, which
gives the year it is kept to (เก็บถึง พ.ศ. …) or ห้ามทำลาย. Legal holds stop destruction while they last.
"""
