"""The vouchers domain: funds, rounds, applications, vouchers, redemptions, reimbursements."""
