"""Routes of the correspondence workflow pages: work queue, letters, outbox, inbox, paper registration, search."""

from django.urls import path

from .views import inbox, inbox_scans, letters, records, search, signing, work

urlpatterns = [
    path("work/", work.work_queue, name="work"),
    path("work/sign/", signing.batch_new, name="sign-batch"),
    path("work/sign/<int:pk>/", signing.batch_page, name="sign-batch-page"),
    path("work/sign/<int:pk>/resume/", signing.batch_resume, name="sign-batch-resume"),
    path("letters/drafts/", letters.drafts, name="letter-drafts"),
    path("letters/new/", letters.new_letter, name="letter-new"),
    path("letters/recipients", letters.recipients, name="letter-recipients"),
    path("letters/preview/", letters.preview, name="letter-preview"),
    path("letters/preview/<str:token>.pdf", letters.preview_pdf, name="letter-preview-pdf"),
    path("letters/<int:pk>/", letters.letter_page, name="letter"),
    path("letters/<int:pk>/edit/", letters.edit_letter, name="letter-edit"),
    path("letters/<int:pk>/pdf", letters.letter_pdf, name="letter-pdf"),
    path("letters/<int:pk>/<str:action>/", letters.letter_action, name="letter-action"),
    path("outbox/", letters.outbox_page, name="outbox"),
    path("inbox/", inbox.inbox_page, name="inbox"),
    path("inbox/register/", inbox.register_paper_page, name="inbox-register"),
    path("inbox/register-selected/", inbox.register_selected, name="inbox-register-selected"),
    path("inbox/register/duplicates", inbox.paper_duplicates, name="inbox-register-duplicates"),
    path("inbox/<int:pk>/", inbox.incoming_page, name="incoming"),
    path("inbox/<int:pk>/pdf", inbox.incoming_pdf, name="incoming-pdf"),
    path("inbox/<int:pk>/scans", inbox_scans.incoming_scans, name="incoming-scans"),
    path("inbox/<int:pk>/files/<int:index>", inbox_scans.incoming_file, name="incoming-file"),
    path("inbox/<int:pk>/files/<int:index>/read-again", inbox_scans.incoming_read_again, name="incoming-read-again"),
    path("inbox/<int:pk>/<str:action>/", inbox.incoming_action, name="incoming-action"),
    path("search/", search.search_page, name="search"),
    path("records/", records.records_page, name="records"),
    path("records/plan/", records.records_plan, name="records-plan"),
    path("records/plan.csv", records.records_plan_csv, name="records-plan-csv"),
    path("records/destruction/", records.records_draw_up, name="records-draw-up"),
    path("records/destruction/<int:pk>/", records.destruction_page, name="records-destruction"),
    path("records/destruction/<int:pk>/form25.<str:fmt>", records.destruction_form, name="records-form25"),
    path("records/destruction/<int:pk>/<str:action>/", records.destruction_action, name="records-destruction-action"),
    path("records/case/<int:pk>/<str:step>/", records.case_step, name="records-case-step"),
    path("records/case/<int:pk>/form19.<str:fmt>", records.case_form, name="records-form19"),
    path("records/letter/<str:kind>/<int:object_id>/<str:action>/", records.letter_record_action,
         name="records-letter-action"),
]
