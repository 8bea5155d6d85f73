export const AUDIT_UI_PAGE = '<!doctype html><title>Audit</title>';
