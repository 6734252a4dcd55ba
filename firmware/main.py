import app.run

app.run.main()
