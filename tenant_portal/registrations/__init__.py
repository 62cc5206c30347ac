"""Course registration: students who opt in while registering for courses, sent by the student information
system (the API's ``registrations:batch``) or uploaded as a CSV file in the portal."""
